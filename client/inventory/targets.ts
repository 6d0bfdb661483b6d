import os from 'node:os';
import path from 'node:path';
import { HostTargetSchema, type HostTarget } from '../../common/hosts';
import { SecretRefSchema } from '../../common/secrets';
import { InventoryError, varsOf, type Inventory, type Vars } from './model';

function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

/** `-o UserKnownHostsFile=...` in Ansible's ssh argument variables, as ssh itself would read it. */
export function knownHostsFromSshArgs(args: string): string | undefined {
  const m = /(?:^|\s)-o\s*["']?UserKnownHostsFile[= ]([^\s"']+)/i.exec(args);
  return m?.[1];
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/**
 * Turns one inventory host into what activities need to reach it. Secrets stay references:
 * a password written in the inventory is refused rather than carried into workflow history.
 */
export function targetFor(
  inv: Inventory,
  host: string,
  defaults: { knownHostsFile?: string } = {},
): HostTarget {
  const vars: Vars = varsOf(inv, host);
  const where = `${inv.source}: host ${host}`;
  const sshArgs = [str(vars.ansible_ssh_common_args), str(vars.ansible_ssh_extra_args)]
    .filter(Boolean)
    .join(' ');
  const knownHostsFile =
    str(vars.clusterflow_known_hosts) ??
    knownHostsFromSshArgs(sshArgs) ??
    defaults.knownHostsFile ??
    path.join(os.homedir(), '.ssh', 'known_hosts');

  const keyFile = str(vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file);
  const privateKey =
    str(vars.clusterflow_ssh_private_key) ??
    (keyFile ? `file:${path.resolve(expandHome(keyFile))}` : undefined);
  const password = str(vars.ansible_password ?? vars.ansible_ssh_pass);
  if (password !== undefined && !SecretRefSchema.safeParse(password).success) {
    throw new InventoryError(
      where,
      'ansible_password must be a reference (env:NAME or file:/path); clusterflow never carries a password value',
    );
  }

  const parsed = HostTargetSchema.safeParse({
    name: host,
    address: str(vars.ansible_host) ?? host,
    port: vars.ansible_port === undefined ? undefined : Number(vars.ansible_port),
    user: str(vars.ansible_user ?? vars.ansible_ssh_user),
    privateKey,
    password,
    knownHostsFile: path.resolve(expandHome(knownHostsFile)),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InventoryError(where, `${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
