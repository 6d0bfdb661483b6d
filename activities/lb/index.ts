import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import type {
  AdminState,
  LbKind,
  LbMember,
  LbMemberView,
  LoadBalancerInput,
  MemberStatus,
} from '../../common/lb';
import { Remote } from '../remote';
import { shellQuote } from '../ssh/quote';
import type { SshPool } from '../ssh/pool';
import { apacheDriver } from './apache';
import type { DriverFactory, LbDriver } from './driver';
import { haproxyDriver } from './haproxy';
import { lvsDriver } from './lvs';
import { nginxDriver } from './nginx';
import {
  COUNT_CAN_GO_STALE,
  nodeRequestsCommand,
  SECOND_LOOK_MS,
  withoutStaleCounts,
  type StaleCount,
} from './stale-busy';
import type { Hooks } from '../hooks';

const DRIVERS: Record<LbKind, DriverFactory> = {
  haproxy: haproxyDriver,
  nginx: nginxDriver,
  apache: apacheDriver,
  lvs: lvsDriver,
};

/** Taking users: ready, and not down in the LB's own health view (where it has one). */
function serving(s: MemberStatus | undefined): boolean {
  return s?.admin === 'ready' && s.up !== false;
}

/** HAProxy and Apache name members; nginx and LVS know only address:port. */
function sameMember(s: MemberStatus, m: LbMember): boolean {
  return s.name === m.name || (s.address === m.address && s.port === m.port);
}

export function createLbActivities(pool: SshPool, hooks: Hooks) {
  const drivers = (lb: LoadBalancerInput): [HostTarget, LbDriver][] =>
    lb.hosts.map((h) => [h, DRIVERS[lb.kind](new Remote(pool, h, hooks()), lb)]);

  /** Every LB host, one after the other: a redundant pair never has both members out by our doing at once. */
  async function onEvery(
    lb: LoadBalancerInput,
    change: (d: LbDriver) => Promise<boolean>,
  ): Promise<string[]> {
    const changed: string[] = [];
    for (const [host, driver] of drivers(lb)) if (await change(driver)) changed.push(host.name);
    return changed;
  }

  async function memberViews(lb: LoadBalancerInput, member: LbMember): Promise<LbMemberView[]> {
    return Promise.all(
      drivers(lb).map(async ([host, d]) => {
        const status = (await d.members()).find((s) => sameMember(s, member));
        return { lb: host.name, present: Boolean(status), status };
      }),
    );
  }

  async function waitUp(lb: LoadBalancerInput, member: LbMember, timeoutMs: number): Promise<LbMemberView[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await memberViews(lb, member);
      if (views.every((v) => serving(v.status))) return views;
      if (Date.now() > deadline)
        throw ApplicationFailure.nonRetryable(
          `${member.name} is not up in every LB: ${views.map((v) => `${v.lb}: ${v.status ? `${v.status.admin}${v.status.up === false ? ', down' : ''}` : 'absent'}`).join('; ')}`,
          FailureTypes.LbNotUp,
        );
      hooks().onTick?.();
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** The node's requests in progress on its port, twice, a second apart; stops at the first look that is not 0. */
  async function nodeLooks(node: HostTarget, port: number): Promise<(number | undefined)[]> {
    const look = async () => {
      const out = await new Remote(pool, node, hooks()).run(nodeRequestsCommand(port)).catch(() => undefined);
      const n = out?.exitCode === 0 ? Number(out.stdout.trim()) : NaN;
      return Number.isInteger(n) ? n : undefined;
    };
    const first = await look();
    if (first !== 0) return [first];
    await new Promise((r) => setTimeout(r, SECOND_LOOK_MS));
    return [first, await look()];
  }

  return {
    /** How every LB host sees one member. */
    lbMemberViews: (input: { lb: LoadBalancerInput; member: LbMember }) =>
      memberViews(input.lb, input.member),

    /** Sets the member's state on every LB host; returns the hosts where something changed. */
    lbSetState: (input: { lb: LoadBalancerInput; member: LbMember; state: AdminState }) =>
      onEvery(input.lb, (d) => d.setState(input.member, input.state)),

    lbAddMember: (input: { lb: LoadBalancerInput; member: LbMember; state: AdminState }) =>
      onEvery(input.lb, (d) => d.addMember(input.member, input.state)),

    lbRemoveMember: (input: { lb: LoadBalancerInput; member: LbMember }) =>
      onEvery(input.lb, (d) => d.removeMember(input.member)),

    /**
     * One look at a member being drained, one read of each LB: re-asserts the drain where the LB
     * lost it (a reload undoes runtime changes) and counts what still holds the node — the LB's
     * sessions and, when a command is given (always for nginx), the node's own count.
     */
    async drainPoll(input: {
      lb: LoadBalancerInput;
      member: LbMember;
      node: HostTarget;
      sessionsCommand?: string;
      /** Once no session is left, go straight on to this state (saves a round trip per node). */
      onceDrained?: AdminState;
    }): Promise<{
      reasserted: string[];
      sessions: Record<string, number>;
      total: number;
      then: string[];
      /** LB counts set to 0: the node was in no request behind them (see stale-busy.ts). */
      stale?: StaleCount[];
    }> {
      const reasserted: string[] = [];
      const sessions: Record<string, number> = {};
      for (const [host, d] of drivers(input.lb)) {
        const status = (await d.members()).find((s) => sameMember(s, input.member));
        // nginx and LVS have no drain of their own: what they report for it is taken as drained.
        if (!status || status.admin === 'ready') {
          if (await d.setState(input.member, 'drain')) reasserted.push(host.name);
        }
        if (status?.sessions !== undefined) sessions[host.name] = status.sessions;
      }
      const checked = COUNT_CAN_GO_STALE.has(input.lb.kind)
        ? Object.keys(sessions).filter((lb) => sessions[lb] > 0)
        : [];
      const { counts, stale } = checked.length
        ? withoutStaleCounts(sessions, checked, await nodeLooks(input.node, input.member.port))
        : { counts: sessions, stale: [] };
      if (input.sessionsCommand)
        counts[input.node.name] = await nodeSessions(pool, input.node, input.sessionsCommand, hooks);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const then =
        total === 0 && input.onceDrained
          ? await onEvery(input.lb, (d) => d.setState(input.member, input.onceDrained as AdminState))
          : [];
      return { reasserted, sessions: counts, total, then, stale };
    },

    /** Back in every LB and seen up there, in one step. */
    async lbEnable(input: { lb: LoadBalancerInput; member: LbMember; timeoutMs: number }): Promise<string[]> {
      const changed = await onEvery(input.lb, (d) => d.setState(input.member, 'ready'));
      await waitUp(input.lb, input.member, input.timeoutMs);
      return changed;
    },

    /**
     * cluster-setup's last check: from each LB host, requests to the frontend until every member
     * has answered (named by `servedByHeader`), or just 2xx answers when the app names no one; and
     * every member ready and up in the LB's own view. One SSH round trip per LB host for the requests.
     */
    async lbServesEveryNode(input: {
      lb: LoadBalancerInput;
      members: LbMember[];
    }): Promise<{ lb: string; ok: boolean; answered: Record<string, number>; problems: string[] }[]> {
      const { frontend } = input.lb;
      const header = frontend.servedByHeader;
      const base = input.lb.kind === 'lvs' ? input.lb.backend : `127.0.0.1:${frontend.port}`;
      const url = shellQuote(`http://${base}${frontend.path}`);
      const tries = Math.max(6, input.members.length * 6);
      const format = shellQuote(`%{http_code} ${header ? `%header{${header}}` : '-'}\n`);
      const reports = [];
      for (const [host, driver] of drivers(input.lb)) {
        const problems: string[] = [];
        const views = await driver.members();
        for (const m of input.members) {
          const s = views.find((v) => sameMember(v, m));
          if (!s) problems.push(`${m.name} is not in the LB`);
          else if (!serving(s)) problems.push(`${m.name} is ${s.admin}${s.up === false ? ' and down' : ''}`);
        }
        const out = await new Remote(pool, host, hooks()).run(
          `for i in $(seq ${tries}); do curl -s -o /dev/null --max-time 5 -w ${format} ${url}; done`,
        );
        const answered: Record<string, number> = {};
        const bad: string[] = [];
        for (const line of out.stdout.split('\n').filter(Boolean)) {
          const [code, who = ''] = line.split(' ');
          if (!/^2\d\d$/.test(code)) bad.push(code);
          else if (header) {
            const m = input.members.find((x) => x.name === who || x.node === who);
            if (m) answered[m.node] = (answered[m.node] ?? 0) + 1;
          } else answered['(any)'] = (answered['(any)'] ?? 0) + 1;
        }
        if (bad.length)
          problems.push(`${bad.length} of ${tries} requests not 2xx (${[...new Set(bad)].join(', ')})`);
        if (header)
          for (const m of input.members)
            if (!answered[m.node])
              problems.push(`${m.node} never answered through the LB in ${tries} requests`);
        reports.push({ lb: host.name, ok: problems.length === 0, answered, problems });
      }
      return reports;
    },
  };
}

/** What the node says it still holds: the command prints one number. */
async function nodeSessions(pool: SshPool, node: HostTarget, command: string, hooks: Hooks): Promise<number> {
  const out = await new Remote(pool, node, hooks()).must(command, 'counting sessions on the node');
  const n = Number(out.stdout.trim().split(/\s+/).pop());
  if (!Number.isFinite(n))
    throw ApplicationFailure.nonRetryable(
      `${node.name}: the sessions command printed "${out.stdout.trim().slice(0, 80)}", not a number`,
      FailureTypes.CommandFailed,
    );
  return n;
}
