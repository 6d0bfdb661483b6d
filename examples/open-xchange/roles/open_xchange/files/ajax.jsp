<%@ page contentType="text/plain; charset=UTF-8" import="java.io.FileReader,java.util.Properties" %><%
  // Lab stand-in for the groupware's /ajax servlets: names the node in X-Node, keeps a session
  // (JSESSIONID ends in .<AJP_JVM_ROUTE>, the route Apache sticks to) and shows configdb's hosts.
  Properties server = new Properties();
  Properties configdb = new Properties();
  String etc = System.getProperty("ox.etc");
  try (FileReader r = new FileReader(etc + "/server.properties")) { server.load(r); }
  try (FileReader r = new FileReader(etc + "/configdb.properties")) { configdb.load(r); }
  Integer n = (Integer) session.getAttribute("requests");
  session.setAttribute("requests", n == null ? 1 : n + 1);
  response.setHeader("X-Node", java.net.InetAddress.getLocalHost().getHostName());
%>route=<%= server.getProperty("AJP_JVM_ROUTE") %>
session.requests=<%= session.getAttribute("requests") %>
writeUrl=<%= configdb.getProperty("writeUrl") %>
readUrl=<%= configdb.getProperty("readUrl") %>
