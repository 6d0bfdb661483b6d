import { FailureTypes } from '../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { RELEVANT_SOFTWARE, type HostFacts, type SoftwareState } from '../common/facts';
import type { Remote } from './remote';
import { shellQuote } from './ssh/quote';

/** The systemd unit each product runs as, on Debian-like and Red Hat-like systems. */
const SERVICE_UNITS: Record<string, string[]> = {
  'openssh-server': ['ssh', 'sshd'],
  'mariadb-server': ['mariadb'],
  'mysql-server': ['mysql', 'mysqld'],
  haproxy: ['haproxy'],
  nginx: ['nginx'],
  apache2: ['apache2'],
  httpd: ['httpd'],
  'glusterfs-server': ['glusterd'],
  'nfs-kernel-server': ['nfs-server'],
  'nfs-ganesha': ['nfs-ganesha'],
};

/**
 * One round trip gathers everything: a POSIX sh script printing `key=value` lines (tab-separated
 * fields where a key has several), so that it runs unchanged on any Linux with /bin/sh.
 */
export function factsScript(software: readonly string[] = RELEVANT_SOFTWARE): string {
  const units = Object.entries(SERVICE_UNITS)
    .filter(([pkg]) => software.includes(pkg))
    .flatMap(([pkg, names]) => names.map((unit) => `${shellQuote(pkg)}:${shellQuote(unit)}`));
  return [
    'LC_ALL=C; export LC_ALL',
    'echo "hostname=$(hostname -s 2>/dev/null || hostname)"',
    'echo "fqdn=$(hostname -f 2>/dev/null || hostname)"',
    '( . /etc/os-release 2>/dev/null; echo "os_id=${ID:-unknown}"; echo "os_version_id=${VERSION_ID:-}"; echo "os_pretty=${PRETTY_NAME:-}"; echo "os_like=${ID_LIKE:-}" )',
    'echo "kernel=$(uname -r)"',
    'echo "arch=$(uname -m)"',
    'echo "init=$(cat /proc/1/comm 2>/dev/null)"',
    'echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"',
    `echo "mem_kb=$(awk '/^MemTotal:/{print $2}' /proc/meminfo)"`,
    `ip -o addr show 2>/dev/null | awk '{print "addr=" $3 "\\t" $4}'`,
    // What roles read besides: the interpreter, the package manager, the user, mounts, the route.
    `echo "python=$(python3 -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)\t$(command -v python3)"`,
    'for m in apt-get dnf yum zypper apk pacman; do if command -v $m >/dev/null 2>&1; then echo "pkg_mgr=${m%-get}"; break; fi; done',
    'echo "user=$(id -un)\t$(id -u)\t$(id -g)\t$HOME\t$SHELL"',
    'echo "epoch=$(date +%s)"',
    `ip -o route get 1.1.1.1 2>/dev/null | awk '{for(i=1;i<NF;i++){if($i=="dev")d=$(i+1);if($i=="via")g=$(i+1);if($i=="src")s=$(i+1)}} END{print "route=" d "\\t" g "\\t" s}'`,
    `df -PTk 2>/dev/null | awk 'NR>1 && $1 !~ /^(tmpfs|devtmpfs|proc|sysfs|none)$/ {print "mount=" $7 "\\t" $1 "\\t" $2 "\\t" $3*1024 "\\t" $5*1024}'`,
    `for p in ${software.map(shellQuote).join(' ')}; do`,
    `  if command -v dpkg-query >/dev/null 2>&1; then v=$(dpkg-query -W -f='\${Status}\\t\${Version}' "$p" 2>/dev/null | awk -F'\\t' '$1 ~ / installed$/ {print $2}');`,
    `  elif command -v rpm >/dev/null 2>&1; then v=$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$p" 2>/dev/null) || v=; else v=; fi`,
    '  printf "pkg=%s\\t%s\\n" "$p" "$v"',
    'done',
    `if command -v systemctl >/dev/null 2>&1; then for pu in ${units.join(' ')}; do`,
    '  p=${pu%%:*}; u=${pu#*:}',
    '  e=$(systemctl is-enabled "$u.service" 2>/dev/null); [ -n "$e" ] || continue',
    '  printf "unit=%s\\t%s\\t%s\\n" "$p" "$e" "$(systemctl is-active "$u.service" 2>/dev/null)"',
    'done; fi',
  ].join('\n');
}

function osFamily(id: string, like: string): string {
  const ids = `${id} ${like}`;
  if (/debian|ubuntu/.test(ids)) return 'debian';
  if (/rhel|fedora|centos/.test(ids)) return 'redhat';
  if (/suse/.test(ids)) return 'suse';
  return id || 'unknown';
}

/** Turns the script's output into facts. Pure, so it is unit-tested on recorded outputs. */
export function parseFacts(output: string): HostFacts {
  const single = new Map<string, string>();
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  const software: Record<string, SoftwareState> = {};
  const mounts: NonNullable<HostFacts['mounts']> = [];
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const fields = line.slice(eq + 1).split('\t');
    if (key === 'addr') {
      const [family, cidr] = fields;
      const address = (cidr ?? '').split('/')[0];
      if (!address || address === '127.0.0.1' || address === '::1') continue;
      (family === 'inet6' ? ipv6 : ipv4).push(address);
    } else if (key === 'pkg') {
      const [name, version] = fields;
      software[name] = version ? { installed: true, version } : { installed: false };
    } else if (key === 'unit') {
      const [name, enabled, active] = fields;
      // An alias (ssh.service -> sshd, mysql.service -> mariadb) repeats another unit's state.
      if (enabled === 'alias' || !software[name]?.installed) continue;
      software[name] = { ...software[name], enabled, active };
    } else if (key === 'mount') {
      const [mount, device, fstype, total, available] = fields;
      mounts.push({ mount, device, fstype, sizeTotal: Number(total), sizeAvailable: Number(available) });
    } else {
      single.set(key, fields.join('\t'));
    }
  }
  const get = (key: string) => single.get(key) ?? '';
  const id = get('os_id');
  return {
    hostname: get('hostname'),
    fqdn: get('fqdn'),
    os: {
      id,
      versionId: get('os_version_id'),
      prettyName: get('os_pretty'),
      family: osFamily(id, get('os_like')),
    },
    kernel: get('kernel'),
    architecture: get('arch'),
    initSystem: get('init') || 'unknown',
    cpuCount: Number(get('cpus')) || 0,
    memoryMb: Math.round(Number(get('mem_kb')) / 1024) || 0,
    ipv4: [...new Set(ipv4)],
    ipv6: [...new Set(ipv6)],
    software,
    ...extraFacts(single, mounts),
  };
}

/** The facts only Ansible content reads (they have no part in clusterflow's own operations). */
function extraFacts(
  single: Map<string, string>,
  mounts: NonNullable<HostFacts['mounts']>,
): Partial<HostFacts> {
  const fields = (key: string) => (single.get(key) ?? '').split('\t');
  const [pythonVersion, pythonPath] = fields('python');
  const [name, uid, gid, home, shell] = fields('user');
  const [dev, gateway, src] = fields('route');
  return {
    ...(pythonVersion ? { python: { version: pythonVersion, executable: pythonPath } } : {}),
    ...(single.get('pkg_mgr') ? { pkgMgr: single.get('pkg_mgr') } : {}),
    ...(name ? { user: { name, uid: Number(uid), gid: Number(gid), home, shell } } : {}),
    ...(single.get('epoch') ? { epoch: Number(single.get('epoch')) } : {}),
    ...(dev ? { defaultRoute: { interface: dev, gateway: gateway || undefined, address: src } } : {}),
    mounts,
  };
}

export async function gatherFacts(remote: Remote): Promise<HostFacts> {
  const result = await remote.run(factsScript(), { timeoutMs: 60_000, become: false });
  if (result.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(
      `${remote.target.name}: facts script exited ${result.exitCode ?? result.signal}: ${result.stderr.slice(0, 500)}`,
      FailureTypes.CommandFailed,
    );
  }
  return parseFacts(result.stdout);
}
