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
    default_ipv4: f.ipv4.length ? { address: f.ipv4[0] } : {},
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
  const known =
    typeof vars.ansible_facts === 'object' && vars.ansible_facts !== null ? vars.ansible_facts : {};
  return { ...vars, ...facts, ansible_facts: { ...known, ...facts } };
}
