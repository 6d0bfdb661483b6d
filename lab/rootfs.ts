import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { machineMirror, machineSuite } from './mirror';
import { CACHE_DIR, ROOTFS_DIR } from './paths';
import { run } from './sh';

/**
 * What a lab host carries. Everything is installed but left disabled, so that workflows configure
 * and start services the way an operator would on a fresh server.
 */
export const LAB_PACKAGES = [
  'openssh-server',
  'sudo',
  'mariadb-server',
  'mariadb-client',
  'mariadb-backup',
  // What Galaxy's MySQL roles install on Debian (the lab has no route to a mirror).
  'default-mysql-server',
  'python3-mysqldb',
  'haproxy',
  'nginx',
  'apache2',
  'glusterfs-server',
  'glusterfs-client',
  'nfs-kernel-server',
  'nfs-ganesha',
  'nfs-ganesha-vfs',
  'libnfs-utils',
  'socat',
  'curl',
  'python3',
  'iproute2',
  'iputils-ping',
  'netcat-openbsd',
  'procps',
  'psmisc',
  'rsync',
  'less',
  // Stand-ins for the vendor examples (examples/*/): Tomcat for the Java products (PowerFolder,
  // Open-Xchange) behind Apache mod_proxy_ajp, vsftpd for the FTP farm, PHP-FPM for Pydio,
  // ipvsadm and quota for InterWorx.
  'tomcat10',
  'vsftpd',
  'php8.2-fpm',
  'ipvsadm',
  'quota',
];

/** Units the packages enable on install that must stay off until a workflow turns them on. */
const UNITS_TO_DISABLE = [
  'apache2',
  'haproxy',
  'nginx',
  'mariadb',
  'mariadb.socket',
  'glusterd',
  'nfs-server',
  'nfs-blkmap',
  'nfs-ganesha',
  'nfs-ganesha-lock',
  'rpcbind',
  'rpcbind.socket',
  'nfs-client.target',
  'tomcat10',
  'vsftpd',
  'php8.2-fpm',
  'ipvsadm',
  'quotarpc',
  'quota',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'e2scrub_reap',
  'fstrim.timer',
  'systemd-pstore',
];

/** Bump when the recipe below changes in a way the package list does not show. */
const RECIPE_VERSION = 3;

/**
 * The lab's own apt repository: an index of exactly the packages the image holds, as apt's only
 * source. Hosts have no route to a mirror, so a role's `update_cache: yes` succeeds (as it would
 * against a reachable mirror), installing what is there is a no-op, and installing anything else
 * fails with apt's own "Unable to locate package".
 */
const LOCAL_REPO = '/var/lib/clusterflow-lab-apt';
const LOCAL_REPO_SCRIPT = `python3 - <<'PY'
import email.utils, hashlib, re
out = []
for p in open('/var/lib/dpkg/status').read().split('\\n\\n'):
    if 'Status: install ok installed' not in p:
        continue
    keep, lines = True, []
    for line in p.split('\\n'):
        if not line.startswith((' ', '\\t')):
            keep = line.split(':', 1)[0] not in ('Status', 'Conffiles', 'Config-Version')
        if keep:
            lines.append(line)
    name = re.search(r'^Package: (.*)$', p, re.M).group(1)
    # Never fetched: every package listed is installed at this version.
    lines += ['Filename: ./%s.deb' % name, 'Size: 1', 'SHA256: ' + '0' * 64]
    out.append('\\n'.join(lines))
data = ('\\n\\n'.join(out) + '\\n').encode()
open('${LOCAL_REPO}/Packages', 'wb').write(data)
with open('${LOCAL_REPO}/Release', 'w') as f:
    f.write('Origin: clusterflow-lab\\nSuite: lab\\nCodename: lab\\nDate: %s\\nSHA256:\\n %s %d Packages\\n' % (email.utils.formatdate(usegmt=True), hashlib.sha256(data).hexdigest(), len(data)))
PY`;

export function rootfsKey(suite: string, packages: readonly string[] = LAB_PACKAGES): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ suite, packages: [...packages].sort(), recipe: RECIPE_VERSION }))
    .digest('hex');
  return `${suite}-${digest.slice(0, 12)}`;
}

/** Runs a command inside a rootfs directory (not booted), with the machine's network and DNS. */
function inRootfs(dir: string, script: string): void {
  run(
    'systemd-nspawn',
    [
      '--quiet',
      '--register=no',
      '--keep-unit',
      '--resolv-conf=copy-host',
      '-D',
      dir,
      '/bin/sh',
      '-ec',
      script,
    ],
    { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'err' }, inherit: true },
  );
}

function build(dir: string, suite: string): void {
  const mirror = machineMirror(suite);
  console.log(
    `lab: building the ${suite} rootfs with debootstrap from the machine's apt mirror (a few minutes, once)`,
  );
  run(
    'debootstrap',
    ['--variant=minbase', '--include=systemd,systemd-sysv,dbus,ca-certificates', suite, dir, mirror],
    {
      inherit: true,
    },
  );
  // Packages must not start services in the build environment.
  writeFileSync(path.join(dir, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  inRootfs(
    dir,
    [
      'export DEBIAN_FRONTEND=noninteractive',
      'apt-get update -qq',
      `apt-get install -y -qq --no-install-recommends ${LAB_PACKAGES.join(' ')} >/dev/null`,
      // One at a time: systemctl stops at the first unit it does not know.
      `for u in ${UNITS_TO_DISABLE.join(' ')}; do systemctl disable -q "$u" 2>/dev/null || true; done`,
      'systemctl mask -q console-getty.service getty@tty1.service',
      'apt-get clean',
      'rm -rf /var/lib/apt/lists/*',
      `mkdir -p ${LOCAL_REPO}`,
      LOCAL_REPO_SCRIPT,
      `echo 'deb [trusted=yes] file:${LOCAL_REPO} ./' > /etc/apt/sources.list`,
      'rm -f /etc/apt/sources.list.d/*',
      'apt-get update -qq',
      // Each host gets its own identity when it is created.
      'rm -f /etc/ssh/ssh_host_* /etc/hostname',
      ': > /etc/machine-id',
    ].join('\n'),
  );
  rmSync(path.join(dir, 'usr/sbin/policy-rc.d'));
  writeFileSync(
    path.join(dir, 'etc/ssh/sshd_config.d/lab.conf'),
    '# clusterflow lab: one ed25519 host key per host, written when the host is created\nHostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n',
  );
}

/**
 * Returns the directory of a ready rootfs for the current package list: already extracted, else
 * unpacked from the cached tarball, else built with debootstrap and cached.
 */
export function ensureRootfs(): string {
  const suite = machineSuite();
  const key = rootfsKey(suite);
  const dir = path.join(ROOTFS_DIR, key);
  if (existsSync(path.join(dir, 'etc/os-release'))) return dir;
  mkdirSync(ROOTFS_DIR, { recursive: true });
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = path.join(CACHE_DIR, `rootfs-${key}.tar.zst`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  if (existsSync(tarball)) {
    run('tar', ['--zstd', '-xpf', tarball, '-C', partial]);
  } else {
    const started = Date.now();
    build(partial, suite);
    run('tar', ['--zstd', '-cpf', `${tarball}.partial`, '-C', partial, '.']);
    renameSync(`${tarball}.partial`, tarball);
    console.log(
      `lab: rootfs built and cached in ${((Date.now() - started) / 1000).toFixed(0)} s: ${tarball}`,
    );
  }
  renameSync(partial, dir);
  return dir;
}
