import type { HostFacts } from './facts';

// What `gather_facts` gives a play: the facts clusterflow gathers, under ansible-core's names,
// both as `ansible_<name>` variables and in `ansible_facts` (without the prefix), as roles read
// them (`when: ansible_os_family == 'Debian'`).

const FAMILY: Record<string, string> = { debian: 'Debian', redhat: 'RedHat', suse: 'Suse' };
const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  centos: 'CentOS',
  rhel: 'RedHat',
  rocky: 'Rocky',
  almalinux: 'AlmaLinux',
  fedora: 'Fedora',
  sles: 'SLES',
  opensuse: 'openSUSE',
  alpine: 'Alpine',
};

const title = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

export function ansibleFacts(f: HostFacts): Record<string, unknown> {
  const release = /\(([^)]+)\)/.exec(f.os.prettyName)?.[1] ?? '';
  const facts: Record<string, unknown> = {
    hostname: f.hostname.split('.')[0],
    nodename: f.hostname,
    fqdn: f.fqdn,
    os_family: FAMILY[f.os.family] ?? title(f.os.family),
    distribution: DISTRIBUTION[f.os.id] ?? title(f.os.id),
    distribution_version: f.os.versionId,
    distribution_major_version: f.os.versionId.split('.')[0],
    distribution_release: release,
    system: 'Linux',
    kernel: f.kernel,
    architecture: f.architecture,
    machine: f.architecture,
    service_mgr: f.initSystem,
    processor_vcpus: f.cpuCount,
    processor_count: f.cpuCount,
    memtotal_mb: f.memoryMb,
    all_ipv4_addresses: f.ipv4,
    all_ipv6_addresses: f.ipv6,
    default_ipv4: f.defaultRoute
      ? {
          address: f.defaultRoute.address,
          interface: f.defaultRoute.interface,
          ...(f.defaultRoute.gateway ? { gateway: f.defaultRoute.gateway } : {}),
        }
      : f.ipv4.length
        ? { address: f.ipv4[0] }
        : {},
    ...laterFacts(f),
  };
  return {
    ...Object.fromEntries(Object.entries(facts).map(([k, v]) => [`ansible_${k}`, v])),
    ansible_facts: facts,
  };
}

/**
 * A host's variables once a module returned facts: a module's facts (getent's `getent_passwd`)
 * are variables and join `ansible_facts`, as ansible-core injects them; set_fact's are variables.
 */
export function withModuleFacts(
  vars: Record<string, unknown>,
  module: string,
  facts: Record<string, unknown>,
): Record<string, unknown> {
  if (module === 'set_fact') return { ...vars, ...facts };
  if (module === 'setup') {
    // setup gives both forms itself: ansible_* variables and ansible_facts without the prefix.
    const { ansible_facts: gathered, ...flat } = facts as { ansible_facts?: object };
    return { ...vars, ...flat, ansible_facts: { ...(vars.ansible_facts as object), ...gathered } };
  }
  const known =
    typeof vars.ansible_facts === 'object' && vars.ansible_facts !== null ? vars.ansible_facts : {};
  return { ...vars, ...facts, ansible_facts: { ...known, ...facts } };
}

/** Facts gathered since the first release: a result recorded before them simply lacks them. */
function laterFacts(f: HostFacts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.python) {
    const [major, minor, micro] = f.python.version.split('.').map(Number);
    out.python_version = f.python.version;
    out.python = {
      executable: f.python.executable,
      type: 'cpython',
      version: { major, minor, micro, releaselevel: 'final', serial: 0 },
      version_info: [major, minor, micro, 'final', 0],
    };
  }
  if (f.pkgMgr) out.pkg_mgr = f.pkgMgr;
  if (f.user) {
    out.user_id = f.user.name;
    out.user_uid = f.user.uid;
    out.user_gid = f.user.gid;
    out.user_dir = f.user.home;
    out.user_shell = f.user.shell;
  }
  if (f.epoch !== undefined) out.date_time = dateTime(f.epoch);
  if (f.mounts)
    out.mounts = f.mounts.map((m) => ({
      mount: m.mount,
      device: m.device,
      fstype: m.fstype,
      size_total: m.sizeTotal,
      size_available: m.sizeAvailable,
    }));
  return out;
}

/** ansible_date_time, in UTC (the lab's and most servers' zone; Ansible uses the host's). */
function dateTime(epoch: number): Record<string, string> {
  const d = new Date(epoch * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return {
    epoch: String(epoch),
    date,
    time,
    year: String(d.getUTCFullYear()),
    month: two(d.getUTCMonth() + 1),
    day: two(d.getUTCDate()),
    hour: two(d.getUTCHours()),
    minute: two(d.getUTCMinutes()),
    second: two(d.getUTCSeconds()),
    iso8601: `${date}T${time}Z`,
    tz: 'UTC',
  };
}
