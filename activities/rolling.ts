import type { AdminState, LbMember, LoadBalancerInput } from '../common/lb';
import type { HostTarget } from '../common/hosts';
import type { createLbActivities } from './lb';
import type { createNodeActivities, HealthGateInput, HealthGateResult } from './nodes';

// Two steps of a node's trip out of the LB and back, each one activity, because every round trip
// through Temporal costs a node tens of milliseconds: the health pre-check with the first drain
// poll, and the health gate with the enable. Both halves stay idempotent, so a retry is safe.

export interface DrainPollInput {
  lb: LoadBalancerInput;
  member: LbMember;
  node: HostTarget;
  sessionsCommand?: string;
  onceDrained?: AdminState;
}

export function createRollingActivities(
  lb: ReturnType<typeof createLbActivities>,
  nodes: ReturnType<typeof createNodeActivities>,
) {
  return {
    /** Healthy before we touch it? Then drain it everywhere and take the first count. */
    async takeOut(input: { precheck: HealthGateInput; drain?: DrainPollInput }) {
      const precheck: HealthGateResult = await nodes.healthGate(input.precheck);
      if (!precheck.healthy || !input.drain) return { precheck };
      return { precheck, poll: await lb.drainPoll(input.drain) };
    },

    /** Healthy after the work? Then back into every LB and seen up there. */
    async putBack(input: {
      gate: HealthGateInput;
      enable?: { lb: LoadBalancerInput; member: LbMember; timeoutMs: number };
    }) {
      const gate = await nodes.healthGate(input.gate);
      if (!gate.healthy || !input.enable) return { gate, enabled: [] as string[], lbMs: 0 };
      const t = Date.now();
      const enabled = await lb.lbEnable(input.enable);
      return { gate, enabled, lbMs: Date.now() - t };
    },
  };
}
