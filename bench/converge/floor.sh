#!/bin/sh
# The floor: the same converge as one POSIX sh script per host, sent over one SSH session.
# $1 = inventory hostname, $2 = address
set -e
conf=$(printf '# written by the fan-out benchmark\nnode=%s\nlisten=%s:8080\nworkers=4\n' "$1" "$2")
changed=0
if [ "$(cat /etc/cfbench.conf 2>/dev/null)" != "$conf" ]; then
  printf '%s\n' "$conf" > /etc/cfbench.conf.tmp && mv /etc/cfbench.conf.tmp /etc/cfbench.conf
  changed=1
fi
touch /etc/cfbench.limits
grep -qxF 'nofile 65536' /etc/cfbench.limits || echo 'nofile 65536' >> /etc/cfbench.limits
grep -qxF 'nproc 4096' /etc/cfbench.limits || echo 'nproc 4096' >> /etc/cfbench.limits
uname -r >/dev/null
if [ "$changed" = 1 ]; then systemctl restart cfbench; fi
