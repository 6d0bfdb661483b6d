import type { z } from 'zod';
import type { ServiceArgs } from '../../common/modules';
import { shellQuote } from '../ssh/quote';
import { changed, failed, ok, type ModuleRunner } from './context';

export interface ServiceState {
  init: 'systemd' | 'sysvinit';
  active: boolean;
  enabled: boolean;
  exists: boolean;
}

/** Pure: the commands that take a service from `state` to what the arguments ask. */
export function planService(a: z.infer<typeof ServiceArgs>, s: ServiceState): string[] {
  const n = shellQuote(a.name);
  const sd = s.init === 'systemd';
  const cmds: string[] = [];
  if (a.enabled !== undefined && a.enabled !== s.enabled) {
    if (sd) cmds.push(`systemctl ${a.enabled ? 'enable' : 'disable'} -q ${n}`);
    else
      cmds.push(
        `if command -v update-rc.d >/dev/null; then update-rc.d ${n} ${a.enabled ? 'defaults' : 'remove'}; else chkconfig ${n} ${a.enabled ? 'on' : 'off'}; fi`,
      );
  }
  const verb = (v: string) => (sd ? `systemctl ${v} ${n}` : `service ${n} ${v}`);
  if (a.state === 'started' && !s.active) cmds.push(verb('start'));
  if (a.state === 'stopped' && s.active) cmds.push(verb('stop'));
  if (a.state === 'restarted') cmds.push(verb('restart'));
  if (a.state === 'reloaded') cmds.push(s.active ? verb('reload') : verb('start'));
  return cmds;
}

/** Detects systemd or sysvinit and reads the unit's state in one round trip. */
const probe = (name: string) => {
  const n = shellQuote(name);
  return [
    'if [ -d /run/systemd/system ]; then echo systemd',
    `  systemctl cat ${n} >/dev/null 2>&1 && echo exists`,
    `  systemctl is-active -q ${n} && echo active`,
    `  systemctl is-enabled -q ${n} 2>/dev/null && echo enabled`,
    'else echo sysvinit',
    `  [ -x /etc/init.d/${name} ] && echo exists`,
    `  service ${n} status >/dev/null 2>&1 && echo active`,
    `  ls /etc/rc[2-5].d/S*${name} >/dev/null 2>&1 && echo enabled`,
    'fi',
    'true',
  ].join('\n');
};

export const service: ModuleRunner<z.infer<typeof ServiceArgs>> = async (ctx, a) => {
  const words = (await ctx.remote.must(probe(a.name), `probing service ${a.name}`)).stdout.split('\n');
  const state: ServiceState = {
    init: words[0] === 'systemd' ? 'systemd' : 'sysvinit',
    exists: words.includes('exists'),
    active: words.includes('active'),
    enabled: words.includes('enabled'),
  };
  if (!state.exists) return failed(`no service named ${a.name}`);
  const cmds = planService(a, state);
  if (cmds.length === 0)
    return ok(`${a.name} is ${state.active ? 'running' : 'stopped'}${state.enabled ? ', enabled' : ''}`);
  const diff = {
    before: `active=${state.active} enabled=${state.enabled}`,
    after: `active=${a.state ? a.state !== 'stopped' : state.active} enabled=${a.enabled ?? state.enabled}`,
  };
  if (!ctx.check) {
    const r = await ctx.remote.run(cmds.join(' && '));
    if (r.exitCode !== 0)
      return failed(`${a.name}: ${(r.stderr || r.stdout).trim()}`, { rc: r.exitCode ?? undefined });
  }
  return changed(ctx, cmds.join('; '), diff);
};
