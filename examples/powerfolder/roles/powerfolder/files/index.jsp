<%@ page contentType="text/plain; charset=UTF-8" import="java.io.FileReader,java.util.Properties" %><%
  // Lab stand-in for the PowerFolder web interface: reads the Server Configuration File on each
  // request (as the product's settings page would show it), names the node in X-Node, keeps a
  // session (its id ends in .<nodeid>, Tomcat's jvmRoute) and counts its requests. The guide's
  // stickysession=rpcid|JSESSIONID|jsessionid is, to mod_proxy_balancer, the cookie "rpcid" (it
  // splits at the first "|"), so the session id goes out in an rpcid cookie too.
  Properties cfg = new Properties();
  try (FileReader r = new FileReader(System.getProperty("powerfolder.config"))) { cfg.load(r); }
  Integer n = (Integer) session.getAttribute("requests");
  session.setAttribute("requests", n == null ? 1 : n + 1);
  if (session.isNew()) {
    jakarta.servlet.http.Cookie rpcid = new jakarta.servlet.http.Cookie("rpcid", session.getId());
    rpcid.setPath("/");
    rpcid.setHttpOnly(true);
    response.addCookie(rpcid);
  }
  response.setHeader("X-Node", cfg.getProperty("nick", "?"));
%>nick=<%= cfg.getProperty("nick") %>
nodeid=<%= cfg.getProperty("nodeid") %>
session.requests=<%= session.getAttribute("requests") %>
database.url=<%= cfg.getProperty("database.url") %>
foldersbase=<%= cfg.getProperty("foldersbase") %>
