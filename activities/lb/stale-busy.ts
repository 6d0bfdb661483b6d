import type { LbKind } from '../../common/lb';

// Apache's balancer-manager "Busy" is a plain counter in shared memory, raised when a request
// picks a worker and lowered when it ends, without a lock or an atomic operation: under
// concurrency a lowering is lost now and then and the count stays above zero for good (until
// apache restarts). A drain that trusts it alone waits out its timeout on a node nobody uses;
// our CI saw it on a different node each time. So an Apache count is believed only while the
// node itself is in a request on its service port. Apache keeps idle keep-alive connections to
// its members, so a connection alone proves nothing: one is in a request when it has not
// answered yet, received data after it last answered, or sent in the last second (an answer
// going out). No such connection on two looks a second apart (a request on its way to the node is on
// it by then) means the count is stale.

/** LB kinds whose session count can be stale and is checked against the node. */
export const COUNT_CAN_GO_STALE: ReadonlySet<LbKind> = new Set(['apache']);

/**
 * Prints how many established connections on the node's service port are in a request, from the
 * kernel's per-connection figures (`ss -i`): idle is a connection that has answered (bytes sent),
 * received nothing since its last answer and sent nothing in the last second. Times count in
 * kernel ticks, so a fresh connection with a request waiting shows its receive and its handshake
 * at the same time; its 0 bytes sent keep it counted. A connection whose figures cannot be read
 * is counted.
 */
export const nodeRequestsCommand = (port: number) =>
  `ss -Htni state established '( sport = :${port} )' | awk ` +
  `'/^[^ \\t]/ { n++ } /lastsnd:/ { s = -1; r = -1; b = 0; for (i = 1; i <= NF; i++) { ` +
  `if ($i ~ /^lastsnd:/) s = substr($i, 9) + 0; if ($i ~ /^lastrcv:/) r = substr($i, 9) + 0; ` +
  `if ($i ~ /^bytes_sent:/) b = substr($i, 12) + 0 } ` +
  `if (b > 0 && s >= 1000 && r >= s) idle++ } END { print n - idle }'`;

/** How long apart the node's two looks are. */
export const SECOND_LOOK_MS = 1000;

export interface StaleCount {
  lb: string;
  counted: number;
}

/**
 * The LB counts with stale ones set to 0. `nodeLooks`: the node's connection counts, one per look
 * (undefined where the node could not be asked: the LB's count is then believed).
 */
export function withoutStaleCounts(
  counts: Record<string, number>,
  checked: readonly string[],
  nodeLooks: readonly (number | undefined)[],
): { counts: Record<string, number>; stale: StaleCount[] } {
  const nodeIdle = nodeLooks.length >= 2 && nodeLooks.every((n) => n === 0);
  if (!nodeIdle) return { counts, stale: [] };
  const out = { ...counts };
  const stale: StaleCount[] = [];
  for (const lb of checked)
    if ((out[lb] ?? 0) > 0) {
      stale.push({ lb, counted: out[lb] });
      out[lb] = 0;
    }
  return { counts: out, stale };
}
