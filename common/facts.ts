import { z } from 'zod';
import { HostTargetSchema } from './hosts';
import type { ResultEnvelope } from './progress';

/** The products clusterflow drives; facts report which of them a host already carries. */
export const RELEVANT_SOFTWARE = [
  'openssh-server',
  'mariadb-server',
  'mysql-server',
  'haproxy',
  'nginx',
  'apache2',
  'httpd',
  'glusterfs-server',
  'glusterfs-client',
  'nfs-kernel-server',
  'nfs-common',
  'nfs-ganesha',
  'ipvsadm',
] as const;

export const FactsInputSchema = z.object({
  cluster: z.string().min(1),
  hosts: z.array(HostTargetSchema).min(1, 'no host matched the inventory and --limit'),
  /** Hosts gathered at once, like Ansible's forks. */
  forks: z.number().int().min(1).max(500).default(20),
  /** Connection attempts before a host is reported unreachable. */
  connectAttempts: z.number().int().min(1).max(20).default(3),
});

export type FactsInput = z.infer<typeof FactsInputSchema>;

export interface SoftwareState {
  installed: boolean;
  version?: string;
  /** systemd unit state when there is one: enabled/disabled/masked/static, and active/inactive. */
  enabled?: string;
  active?: string;
}

export interface HostFacts {
  hostname: string;
  fqdn: string;
  os: { id: string; versionId: string; prettyName: string; family: string };
  kernel: string;
  architecture: string;
  initSystem: string;
  cpuCount: number;
  memoryMb: number;
  ipv4: string[];
  ipv6: string[];
  software: Record<string, SoftwareState>;
  // For Ansible content (facts as ansible_* variables); absent in results recorded before them.
  python?: { version: string; executable: string };
  pkgMgr?: string;
  user?: { name: string; uid: number; gid: number; home: string; shell: string };
  /** When the facts were gathered, in seconds since the epoch (ansible_date_time). */
  epoch?: number;
  defaultRoute?: { interface: string; gateway?: string; address: string };
  mounts?: { mount: string; device: string; fstype: string; sizeTotal: number; sizeAvailable: number }[];
}

export type HostStatus = 'ok' | 'unreachable' | 'failed';

export interface HostFactsOutcome {
  host: string;
  address: string;
  status: HostStatus;
  facts?: HostFacts;
  /** Why a host is unreachable or failed, in words an operator can act on. */
  reason?: string;
  failureType?: string;
}

export interface FactsResult extends ResultEnvelope {
  hosts: HostFactsOutcome[];
  summary: Record<HostStatus, number>;
}
