import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, up } from '../../lab/hosts';

// What the apt, unarchive, get_url, uri and reboot cases of modules.test.ts need around them.
// The lab has no route to a package mirror or the internet: packages come from a local
// repository built on the host, and HTTP from servers on the host's own loopback.

/**
 * A local apt repository on the host with cf-pin 1.0 and 2.0 (whose postinst records what
 * policy-rc.d answers), a Release naming the suite `cflab`, and apt pointed at it alone (the
 * lab's own lists kept), the lists made two days old.
 */
export function aptRepoSetup(d: string): string {
  return [
    'set -e',
    `mkdir -p ${d}/repo ${d}/no-parts`,
    'for v in 1.0 2.0; do',
    `  p=${d}/pin-$v; mkdir -p $p/DEBIAN`,
    `  printf 'Package: cf-pin\\nVersion: %s\\nArchitecture: all\\nMaintainer: lab <lab@example.org>\\nDescription: pin demo\\n' $v > $p/DEBIAN/control`,
    `  printf '#!/bin/sh\\n/usr/sbin/policy-rc.d; echo $? > ${d}/policy-rc\\n' > $p/DEBIAN/postinst; chmod 755 $p/DEBIAN/postinst`,
    `  dpkg-deb --build $p ${d}/repo/cf-pin_$v.deb >/dev/null`,
    'done',
    `cd ${d}/repo`,
    'for f in cf-pin_*.deb; do dpkg-deb -f $f Package Version Architecture Maintainer Description;',
    `  printf 'Filename: ./%s\\nSize: %s\\nSHA256: %s\\n\\n' $f $(stat -c %s $f) $(sha256sum < $f | cut -d' ' -f1); done > Packages`,
    `printf 'Suite: cflab\\nCodename: cflab\\nSHA256:\\n %s %s Packages\\n' $(sha256sum < Packages | cut -d' ' -f1) $(stat -c %s Packages) > Release`,
    `echo "deb [trusted=yes] file:${d}/repo ./" > ${d}/repo.list`,
    `printf 'Dir::Etc::sourcelist "${d}/repo.list";\\nDir::Etc::sourceparts "${d}/no-parts";\\nAPT::Get::List-Cleanup "false";\\n' > /etc/apt/apt.conf.d/99cf-it`,
    "touch -d '2 days ago' /var/lib/apt/lists",
  ].join('\n');
}
export const APT_REPO_CLEANUP =
  'rm -f /etc/apt/apt.conf.d/99cf-it /var/lib/apt/lists/_tmp_cf-it_*; dpkg -r cf-pin >/dev/null 2>&1';

/** An HTTP server on the host's loopback that answers any request with what it received, as JSON. */
const ECHO_SERVER = `import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Echo(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = json.dumps({'method': self.command, 'path': self.path, 'headers': dict(self.headers),
                           'body': self.rfile.read(n).decode()}).encode()
        self.send_response(404 if self.path.startswith('/missing') else 201 if self.command == 'POST' else 200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *a): pass
HTTPServer(('127.0.0.1', int(sys.argv[1])), Echo).serve_forever()
`;

export function echoServerStart(d: string, port: number): string {
  return [
    `mkdir -p ${d} && cat > ${d}/echo.py <<'EOF'\n${ECHO_SERVER}EOF`,
    `cd ${d} && (setsid python3 echo.py ${port} >/dev/null 2>&1 & echo $! > echo.pid)`,
    `for i in $(seq 1 25); do (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && exit 0; sleep 0.2; done; exit 1`,
  ].join('\n');
}
export const echoServerStop = (d: string) => `[ -f ${d}/echo.pid ] && kill $(cat ${d}/echo.pid); true`;

/** A tar.gz on the worker (unarchive's src): app-1.0/ with a script, a config and a link. */
export function localArchive(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-archive-'));
  const app = path.join(dir, 'app-1.0');
  mkdirSync(path.join(app, 'bin'), { recursive: true });
  writeFileSync(path.join(app, 'bin', 'run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  writeFileSync(path.join(app, 'app.conf'), 'port=8080\n');
  symlinkSync('bin/run', path.join(app, 'start'));
  const archive = path.join(dir, 'app-1.0.tgz');
  const r = spawnSync('tar', ['czf', archive, '-C', dir, 'app-1.0']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return archive;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The lab's part in a reboot, as a machine's firmware plays it: systemd-nspawn exits when its
 * container reboots (or is stopped), and nothing starts it again, so this does, `delayMs` after
 * it went down, until stopped.
 */
export function restartWhenDown(host: string, delayMs: number) {
  let done = false;
  let starts = 0;
  const loop = (async () => {
    while (!done) {
      if (status().find((h) => h.name === host)?.running === false) {
        await sleep(delayMs);
        await up([host]);
        starts++;
      }
      await sleep(250);
    }
  })();
  return {
    starts: () => starts,
    stop: async () => {
      done = true;
      await loop;
    },
  };
}
