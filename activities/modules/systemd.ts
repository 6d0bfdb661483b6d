import type { z } from 'zod';
import type { SystemdArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

// systemd (systemd_service), as ansible-core runs it: daemon-reload first, then mask/unmask,
// enable/disable, and the state, each only when the unit is not already so. `service` stays the
// init-neutral module; this one speaks systemctl only.

type Systemd = z.output<typeof SystemdArgs>;

/** What `systemctl show` tells of a unit, the properties roles read from `status`. */
const PROPERTIES = [
  'Id',
  'Names',
  'Description',
  'LoadState',
  'LoadError',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'UnitFilePreset',
  'FragmentPath',
  'MainPID',
  'ExecMainStatus',
  'Result',
  'Type',
  'Restart',
  'NeedDaemonReload',
  'ActiveEnterTimestamp',
];

export interface UnitState {
  /** `systemctl show` as key -> value (empty when the unit is unknown). */
  status: Record<string, string>;
  /** `systemctl is-enabled` output: enabled, disabled, masked, static, indirect, … */
  enablement: string;
  /** is-enabled's exit code: 0 means enabled (or static, alias, indirect with a single word). */
  enabledRc: number;
}

/** Pure: `systemctl show` output as a map, keeping only known properties. */
export function parseShow(output: string): Record<string, string> {
  const status: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) status[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return status;
}

const running = (s: Record<string, string>) => ['active', 'activating'].includes(s.ActiveState);

/** Pure: whether the unit exists for systemd (loaded, or masked). */
export function unitExists(s: UnitState): boolean {
  return (s.status.LoadState ?? 'not-found') !== 'not-found' || s.enablement === 'masked';
}

/** Pure: is-enabled as ansible-core reads it: rc 0 is enabled, unless it is only `indirect` or `alias`. */
export function isEnabled(s: UnitState): boolean {
  return s.enabledRc === 0 && !['indirect', 'alias'].includes(s.enablement.trim());
}

export interface SystemdPlan {
  /** systemctl verbs in order (`mask`, `enable`, `start`); the unit name is added when they run. */
  verbs: string[];
  /** Ansible's `state` and `enabled` results. */
  state?: string;
  enabled?: boolean;
}

/** Pure: what to run to take the unit from `s` to what the arguments ask, in ansible-core's order. */
export function planSystemd(a: Systemd, s: UnitState): SystemdPlan {
  const verbs: string[] = [];
  const plan: SystemdPlan = { verbs };
  if (a.masked !== undefined && (s.enablement.trim() === 'masked') !== a.masked)
    verbs.push(a.masked ? 'mask' : 'unmask');
  if (a.enabled !== undefined) {
    const enabled = isEnabled(s);
    if (enabled !== a.enabled) verbs.push(a.enabled ? 'enable' : 'disable');
    plan.enabled = a.enabled;
  }
  if (a.state !== undefined) {
    const up = running(s.status);
    plan.state = a.state;
    if (a.state === 'started' && !up) verbs.push('start');
    else if (a.state === 'stopped' && (up || s.status.ActiveState === 'deactivating')) verbs.push('stop');
    else if (a.state === 'tried-restart') {
      if (up) verbs.push('restart');
      plan.state = up ? 'started' : 'stopped';
    } else if (a.state === 'restarted' || a.state === 'reloaded') {
      verbs.push(up ? a.state.slice(0, -2) : 'start');
      plan.state = 'started';
    }
  }
  return plan;
}

/** Reads the unit's properties and enablement in one round trip. */
function probe(name: string): string {
  const n = shellQuote(name);
  return [
    `systemctl show ${n} -p ${PROPERTIES.join(',')} 2>/dev/null`,
    'echo "--is-enabled--"',
    `systemctl is-enabled ${n} 2>/dev/null; echo "rc=$?"`,
  ].join('\n');
}

/** Pure: the probe's output as the unit's state. */
export function parseProbe(output: string): UnitState {
  const [show, enabled = ''] = output.split('--is-enabled--\n');
  const rc = /rc=(\d+)\s*$/.exec(enabled);
  return {
    status: parseShow(show),
    enablement: enabled.replace(/rc=\d+\s*$/, '').trim(),
    enabledRc: rc ? Number(rc[1]) : 1,
  };
}

/** Pure: the unit as --diff shows it, now or (given the plan) after it runs. */
export function describeUnit(s: UnitState, a?: Systemd, plan?: SystemdPlan): string {
  let active = s.status.ActiveState ?? '-';
  let enabled = s.enablement || '-';
  if (a && plan) {
    if (plan.state) active = plan.state === 'stopped' ? 'inactive' : 'active';
    if (a.masked === false && enabled === 'masked') enabled = 'unmasked';
    if (a.enabled !== undefined) enabled = a.enabled ? 'enabled' : 'disabled';
    if (a.masked) enabled = 'masked';
  }
  return `active: ${active}\nenabled: ${enabled}\n`;
}

const lastLines = (text: string) => text.trim().split('\n').slice(-5).join('\n');

export const systemd: ModuleRunner<Systemd> = async (ctx, a) => {
  const systemctl = `systemctl${a.no_block ? ' --no-block' : ''}`;
  // ansible-core reloads only outside check mode, and a reload alone reports no change.
  if (a.daemon_reload && !ctx.check) {
    const r = await ctx.remote.run(`${systemctl} daemon-reload`);
    if (r.exitCode !== 0)
      return failed(`failure ${r.exitCode} during daemon-reload: ${lastLines(r.stderr || r.stdout)}`);
  }
  if (!a.name) return ok('daemon reloaded');
  const unit = parseProbe((await ctx.remote.must(probe(a.name), `reading unit ${a.name}`)).stdout);
  if (unit.status.LoadState !== 'masked' && unit.status.LoadError && unitExists(unit))
    return failed(`Error loading unit file '${a.name}': ${unit.status.LoadError}`);
  // mask/unmask work on a unit not installed yet; everything else needs the unit.
  if ((a.enabled !== undefined || a.state !== undefined) && !unitExists(unit))
    return failed(`Could not find the requested service ${a.name}: host`, { data: { name: a.name } });
  const plan = planSystemd(a, unit);
  const data = {
    name: a.name,
    status: unit.status,
    ...(plan.enabled !== undefined ? { enabled: plan.enabled } : {}),
    ...(plan.state !== undefined ? { state: plan.state } : {}),
  };
  if (plan.verbs.length === 0)
    return {
      ...ok(`${a.name} is ${unit.status.ActiveState ?? 'unknown'}, ${unit.enablement || 'not installed'}`),
      data,
    };
  const commands = plan.verbs.map((v) => `${systemctl} ${v} ${shellQuote(a.name!)}`);
  if (!ctx.check) {
    for (const [i, command] of commands.entries()) {
      const r = await ctx.remote.run(command);
      if (r.exitCode !== 0)
        return failed(`Unable to ${plan.verbs[i]} service ${a.name}: ${lastLines(r.stderr || r.stdout)}`, {
          rc: r.exitCode ?? undefined,
          data,
        });
    }
  }
  const diff = { before: describeUnit(unit), after: describeUnit(unit, a, plan) };
  return { ...changed(ctx, plan.verbs.map((v) => `${v} ${a.name}`).join(', '), diff), data };
};
