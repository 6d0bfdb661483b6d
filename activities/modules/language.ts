import type { z } from 'zod';
import type {
  AssertArgs,
  DebugArgs,
  FailArgs,
  MetaArgs,
  PauseArgs,
  PingArgs,
  SetFactArgs,
} from '../../common/modules';
import { falseCondition } from '../../common/conditions';
import { expressionValue } from '../../common/templates';
import { failed, ok, type ModuleRunner } from './context';

// debug, assert, fail and set_fact: modules that are the play language rather than a change on a
// host. They run on the worker with the task's variables and touch no host, as Ansible runs them
// on the controller. Their arguments arrive rendered, except `that` and `var`, which are
// expressions and are evaluated here.

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export const debug: ModuleRunner<z.output<typeof DebugArgs>> = async (ctx, args) => {
  if (args.var !== undefined) {
    let value: unknown;
    try {
      value = expressionValue(args.var, ctx.vars);
    } catch {
      value = undefined;
    }
    const shown = value === undefined ? 'VARIABLE IS NOT DEFINED!' : value;
    return { changed: false, msg: `${args.var}: ${text(shown)}`, data: { [args.var]: shown } };
  }
  const msg = args.msg ?? 'Hello world!';
  return { changed: false, msg: text(msg), data: { msg } };
};

export const assert: ModuleRunner<z.output<typeof AssertArgs>> = async (ctx, args) => {
  const that = Array.isArray(args.that) ? args.that : [args.that];
  const broken = falseCondition(that, ctx.vars);
  if (broken !== undefined) {
    const msg = args.fail_msg ?? args.msg ?? 'Assertion failed';
    return failed(text(msg), { data: { assertion: broken, evaluated_to: false } });
  }
  return ok(text(args.success_msg ?? 'All assertions passed'));
};

export const fail: ModuleRunner<z.output<typeof FailArgs>> = async (_ctx, args) => failed(text(args.msg));

export const setFact: ModuleRunner<z.output<typeof SetFactArgs>> = async (_ctx, args) => {
  const facts = Object.fromEntries(Object.entries(args).filter(([k]) => k !== 'cacheable'));
  return { changed: false, msg: `set ${Object.keys(facts).join(', ')}`, ansibleFacts: facts };
};

/** pause: how long, rendered here; the play waits it out as a durable timer (workflows/play.ts). */
export const pause: ModuleRunner<z.output<typeof PauseArgs>> = async (_ctx, args) => {
  const ms = ((args.minutes ?? 0) * 60 + (args.seconds ?? 0)) * 1000;
  return { changed: false, msg: `paused ${ms / 1000} s`, data: { pause_ms: ms } };
};

/** meta: the play ends early for the host, the batch or the play (workflows/play.ts acts on it). */
export const meta: ModuleRunner<z.output<typeof MetaArgs>> = async (_ctx, args) => ({
  changed: false,
  msg: args.action === 'noop' ? 'noop' : `${args.action}: ending ${args.action.slice(4)}`,
  data: { meta: args.action },
});

/** ping: one round trip to the host, as Ansible's proves it can run a module there. */
export const ping: ModuleRunner<z.output<typeof PingArgs>> = async (ctx, args) => {
  const r = await ctx.remote.run('true');
  if (r.exitCode !== 0) return failed(`ping: ${(r.stderr || r.stdout).trim()}`);
  return { changed: false, msg: args.data, data: { ping: args.data } };
};
