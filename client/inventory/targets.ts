import os from 'node:os';
import path from 'node:path';
import { HostTargetSchema, type HostTarget } from '../../common/hosts';
import { SecretRefSchema } from '../../common/secrets';
import { InventoryError, varsOf, type Inventory, type Vars } from './model';

function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

/** `-o Name=value` (or `-o Name value`) from ssh arguments. */
export function sshOption(args: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)-o\\s*["']?${name}[= ]([^\\s"']+)`, 'i').exec(args);
  return m?.[1];
}

/** ProxyJump's `[user@]host[:port]`. */
export function parseJump(spec: string, where = 'ProxyJump'): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(spec.split(',')[0]);
  if (!m) throw new InventoryError(where, `cannot read ProxyJump "${spec}"`);
  return { user: m[1], host: m[2], port: m[3] ? Number(m[3]) : undefined };
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(true|yes|1)$/i.test(v));

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
    sshOption(sshArgs, 'UserKnownHostsFile') ??
    defaults.knownHostsFile ??
    path.join(os.homedir(), '.ssh', 'known_hosts');

  const keyFile = str(vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file);
  const checking = str(vars.clusterflow_host_key_checking) ?? sshOption(sshArgs, 'StrictHostKeyChecking');
  const hostKeyChecking = checking === 'accept-new' ? 'accept-new' : 'strict';
  const becomePassword = str(vars.ansible_become_password ?? vars.ansible_become_pass);
  if (becomePassword !== undefined && !SecretRefSchema.safeParse(becomePassword).success) {
    throw new InventoryError(where, 'ansible_become_password must be a reference (env:NAME or file:/path)');
  }
  const becomeMethod = str(vars.ansible_become_method);
  if (becomeMethod !== undefined && becomeMethod !== 'sudo' && becomeMethod !== 'su')
    throw new InventoryError(
      where,
      `ansible_become_method: ${becomeMethod}: sudo or su (others are not supported yet)`,
    );
  const become = truthy(vars.ansible_become)
    ? {
        user: str(vars.ansible_become_user) ?? 'root',
        password: becomePassword,
        ...(becomeMethod ? { method: becomeMethod } : {}),
      }
    : undefined;
  const how = str(vars.ansible_connection);
  if (how !== undefined && !['ssh', 'smart', 'paramiko', 'local'].includes(how))
    throw new InventoryError(
      where,
      `ansible_connection: ${how}: ssh or local (others are not supported yet)`,
    );
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

  const connection = {
    privateKey,
    password,
    knownHostsFile: path.resolve(expandHome(knownHostsFile)),
    hostKeyChecking,
  };
  const proxy = sshOption(sshArgs, 'ProxyJump');
  let jump;
  if (proxy) {
    const j = parseJump(proxy, where);
    // The bastion may be an inventory host itself; then its address and port come from there.
    const known = inv.hostVars.has(j.host) ? varsOf(inv, j.host) : {};
    jump = {
      ...connection,
      name: j.host,
      address: str(known.ansible_host) ?? j.host,
      port: j.port ?? (known.ansible_port === undefined ? 22 : Number(known.ansible_port)),
      user: j.user ?? str(known.ansible_user) ?? str(vars.ansible_user) ?? 'root',
    };
  }
  const parsed = HostTargetSchema.safeParse({
    ...connection,
    name: host,
    address: str(vars.ansible_host) ?? host,
    port: vars.ansible_port === undefined ? undefined : Number(vars.ansible_port),
    user: str(vars.ansible_user ?? vars.ansible_ssh_user),
    jump,
    become,
    ...(how === 'local' ? { connection: 'local' } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InventoryError(where, `${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
