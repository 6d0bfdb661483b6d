import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { mapWithLimit } from '../common/concurrency';
import { nonRetryableFailureTypes, FailureTypes } from '../common/errors';
import { daysUntil, type ActivationOutcome, type LicenseInput, type LicenseNode } from '../common/license';
import { entriesTable, type ResultEnvelope } from '../common/progress';
import { ProgressBook } from './progress';

// License activation per node (seed 000: "activation on each individual server node"). A licensing
// service outage is waited out: each node's activity is retried with backoff for hours, and each
// attempt checks first, so a worker restart never activates a node twice.

export interface NodeLicenseResult {
  node: string;
  outcome: ActivationOutcome | 'deactivated' | 'not-active' | 'active';
  expires?: string;
  daysLeft?: number;
  warning?: string;
  reason?: string;
}

export interface LicenseResult extends ResultEnvelope {
  operation: 'license-activation' | 'license-deactivate' | 'license-status';
  ok: boolean;
  nodes: NodeLicenseResult[];
  summary: string;
}

function activitiesFor(input: LicenseInput, budget: Duration = `${input.section.retryForHours} hours`) {
  const s = input.section;
  return proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    // A killed worker's attempt is noticed within this and retried elsewhere.
    heartbeatTimeout: '30 seconds',
    // The whole outage budget: every retry of one node fits in it.
    scheduleToCloseTimeout: budget,
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: `${s.maxRetryIntervalSeconds} seconds`,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });
}

const driverOf = (input: LicenseInput) => ({
  driver: input.section.driver,
  command: input.section.command,
  http: input.section.http,
});

function reasonOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The UI's view of a license run: each node's state, expiry and why. */
function licenseTable(book: ProgressBook, results: Map<string, NodeLicenseResult>): string {
  return entriesTable(book.entries, 'node', [
    { head: 'expires', cell: (e) => results.get(e.name)?.expires },
    { head: 'note', cell: (e) => results.get(e.name)?.reason ?? results.get(e.name)?.warning },
  ]);
}

async function eachNode(
  input: LicenseInput,
  operation: LicenseResult['operation'],
  work: (node: LicenseNode) => Promise<NodeLicenseResult>,
): Promise<{ book: ProgressBook; nodes: NodeLicenseResult[] }> {
  const book = new ProgressBook(
    operation,
    input.cluster,
    input.nodes.map((n) => n.name),
    'node',
  );
  const finished = new Map<string, NodeLicenseResult>();
  const phase = () =>
    book.phase(`${finished.size}/${input.nodes.length} nodes`, licenseTable(book, finished));
  phase();
  const nodes = await mapWithLimit(input.nodes, input.section.concurrency, async (node) => {
    book.at(node.name, 'running');
    let r: NodeLicenseResult;
    try {
      r = await work(node);
    } catch (err) {
      if (isCancellation(err)) throw err; // a cancelled run ends cancelled, not "failed" per node
      r = { node: node.name, outcome: 'failed', reason: reasonOf(err) };
    }
    finished.set(r.node, r);
    if (r.outcome === 'activated' || r.outcome === 'deactivated') book.changed(r.node, r.outcome);
    book.finish(r.node, r.outcome, r.reason ?? r.warning);
    phase();
    return r;
  });
  return { book, nodes };
}

function finish(
  { book, nodes }: { book: ProgressBook; nodes: NodeLicenseResult[] },
  ok: boolean,
): LicenseResult {
  const count = (o: NodeLicenseResult['outcome']) => nodes.filter((n) => n.outcome === o).length;
  const parts = (['activated', 'already-active', 'deactivated', 'active', 'not-active', 'failed'] as const)
    .filter((o) => count(o))
    .map((o) => `${count(o)} ${o}`);
  const warned = nodes.filter((n) => n.warning).length;
  const summary = [...parts, ...(warned ? [`${warned} expiring soon`] : [])].join(', ') || 'no nodes';
  book.phase(summary, licenseTable(book, new Map(nodes.map((n) => [n.node, n]))));
  const changed = nodes.some((n) => n.outcome === 'activated' || n.outcome === 'deactivated');
  return {
    ...book.envelope(changed),
    operation: book.operation as LicenseResult['operation'],
    ok,
    nodes,
    summary,
  };
}

/** `license-activation`: check, activate (unless already active, or `force`), verify, per node. */
export async function licenseActivation(input: LicenseInput & { force: boolean }): Promise<LicenseResult> {
  if (input.nodes.length === 0)
    throw ApplicationFailure.nonRetryable('license.hosts: no nodes to activate', FailureTypes.BadInput);
  const acts = activitiesFor(input);
  const run = await eachNode(input, 'license-activation', async (node) => {
    const r = await acts.licenseActivate.executeWithOptions(
      { summary: `${node.name}: license check, activate, verify` },
      [{ node, driver: driverOf(input), force: input.force }],
    );
    return { node: node.name, outcome: r.outcome, expires: r.expires };
  });
  return finish(
    run,
    run.nodes.every((n) => n.outcome !== 'failed'),
  );
}

/** `license-deactivate`: frees each node's seat (node-remove uses it). */
export async function licenseDeactivate(input: LicenseInput): Promise<LicenseResult> {
  const acts = activitiesFor(input);
  const run = await eachNode(input, 'license-deactivate', async (node) => {
    const r = await acts.licenseDeactivate.executeWithOptions(
      { summary: `${node.name}: license deactivate` },
      [{ node, driver: driverOf(input) }],
    );
    return { node: node.name, outcome: r.released ? 'deactivated' : 'not-active' };
  });
  return finish(
    run,
    run.nodes.every((n) => n.outcome !== 'failed'),
  );
}

/**
 * `license-status`: active or not, expiry and days left, a warning inside the threshold. Not ok
 * when a node is not active or expires soon, so a Schedule's failed run is the alert.
 */
export async function licenseStatus(input: LicenseInput): Promise<LicenseResult> {
  // A status report waits minutes, not hours, for the service: a late report is no report.
  const acts = activitiesFor(input, '5 minutes');
  const now = new Date(); // workflow time: deterministic on replay
  const run = await eachNode(input, 'license-status', async (node) => {
    const s = await acts.licenseCheck.executeWithOptions({ summary: `${node.name}: license check` }, [
      { node, driver: driverOf(input) },
    ]);
    const daysLeft = s.expires ? daysUntil(s.expires, now) : undefined;
    const warning =
      daysLeft !== undefined && daysLeft <= input.section.expiryWarningDays
        ? daysLeft < 0
          ? `expired ${-daysLeft} day(s) ago`
          : `expires in ${daysLeft} day(s)`
        : undefined;
    return {
      node: node.name,
      outcome: s.active ? 'active' : 'not-active',
      expires: s.expires,
      daysLeft,
      warning,
    };
  });
  return finish(
    run,
    run.nodes.every((n) => n.outcome === 'active' && !n.warning),
  );
}
