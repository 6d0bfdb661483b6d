import { stringify } from 'yaml';

export interface LabHostRecord {
  name: string;
  address: string;
  /** `ssh-ed25519 AAAA...` as in the host's .pub file. */
  hostKey: string;
}

export const LAB_NETWORK = {
  prefix: '10.77.0',
  gateway: '10.77.0.1',
  cidr: 24,
  firstHost: 11,
  lastHost: 254,
};

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;

export function validateHostName(name: string): void {
  if (!HOST_NAME.test(name)) {
    throw new Error(
      `lab host name "${name}" must be lowercase letters, digits and dashes, starting with a letter`,
    );
  }
}

/** The lowest free host address, so a host keeps its address while others come and go. */
export function allocateAddress(taken: readonly string[]): string {
  for (let octet = LAB_NETWORK.firstHost; octet <= LAB_NETWORK.lastHost; octet++) {
    const address = `${LAB_NETWORK.prefix}.${octet}`;
    if (!taken.includes(address)) return address;
  }
  throw new Error('the lab network is full');
}

/** `app12` belongs to group `app`; a name without a trailing number has no role group. */
export function roleOf(name: string): string | undefined {
  const role = name.replace(/-?\d+$/, '');
  return role !== name && role ? role : undefined;
}

/**
 * An Ansible YAML inventory of the lab. Connection settings use Ansible's own variables, so the
 * same file drives clusterflow and ansible-playbook alike.
 */
export function renderInventory(
  hosts: readonly LabHostRecord[],
  files: { key: string; knownHosts: string },
): string {
  const children: Record<string, { hosts: Record<string, null> }> = {};
  for (const host of hosts) {
    const role = roleOf(host.name);
    if (role) (children[role] ??= { hosts: {} }).hosts[host.name] = null;
  }
  const inventory = {
    all: {
      vars: {
        cluster_name: 'lab',
        ansible_user: 'root',
        ansible_ssh_private_key_file: files.key,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${files.knownHosts} -o StrictHostKeyChecking=yes`,
      },
      hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.address }])),
      ...(Object.keys(children).length ? { children } : {}),
    },
  };
  return `# Written by clusterflow-lab; regenerated on every change to the lab.\n${stringify(inventory, { nullStr: '', lineWidth: 0 })}`;
}

/** Every host under its name and its address, with its pinned key. */
export function renderKnownHosts(hosts: readonly LabHostRecord[]): string {
  return hosts
    .map((h) => `${h.name},${h.address} ${h.hostKey.split(/\s+/).slice(0, 2).join(' ')}\n`)
    .join('');
}

export function renderEtcHosts(hosts: readonly LabHostRecord[]): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${LAB_NETWORK.gateway}\tlab-gateway`,
    ...hosts.map((h) => `${h.address}\t${h.name}`),
    '',
  ].join('\n');
}
