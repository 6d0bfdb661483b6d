<?php
// Lab stand-in for Pydio's web interface: a session under the cookie name "Pydio" (the name the
// guide's load balancer sticks on), the node in X-Node, the database host from the shared
// bootstrap.json, and a file written to and listed from the shared data volume.
session_name('Pydio');
session_start();
$_SESSION['requests'] = ($_SESSION['requests'] ?? 0) + 1;
header('X-Node: ' . gethostname());
header('Content-Type: text/plain');
$boot = json_decode((string) @file_get_contents('/mnt/pydio-config/bootstrap.json'), true);
echo 'node=' . gethostname() . "\n";
echo 'session.requests=' . $_SESSION['requests'] . "\n";
echo 'db.host=' . ($boot['db']['host'] ?? '') . "\n";
