import { ApplicationFailure, patched, upsertMemo } from '@temporalio/workflow';
import type { Drift } from '../activities/node-config';
import { FailureTypes } from '../common/errors';
import type { NodesInput } from '../common/lb';
import type { ResultEnvelope } from '../common/progress';
import { withClusterLock } from './lock';
import { acts } from './node-operations';
import { ProgressBook } from './progress';

export interface ConfigDriftResult extends ResultEnvelope {
  operation: 'config-drift';
  /** The node the others are compared with. */
  reference: string;
  fixed: boolean;
  /** Per node: the keys that differ from the reference (node-specific keys never do). */
  drift: Record<string, Drift[]>;
  /**
   * Per node: when this run found or made it equal to the reference (CompleteFTP's "Last
   * synchronized"); a node left drifted has none. Absent in results of older runs.
   */
  synchronized?: Record<string, string>;
  notes: string[];
}

/** `config-drift`: the app config across nodes against the reference, node-specific keys ignored; `fix` converges. */
export async function configDrift(input: NodesInput & { fix: boolean }): Promise<ConfigDriftResult> {
  const config = input.settings.config;
  if (!config)
    throw ApplicationFailure.nonRetryable(
      'nodes.config: the spec names no server config to compare',
      FailureTypes.BadInput,
    );
  const book = new ProgressBook(
    'config-drift',
    input.cluster,
    input.nodes.map((n) => n.name),
    'node',
  );
  const run = () =>
    acts.compareConfigs({
      nodes: input.nodes,
      reference: input.reference,
      config,
      fix: input.fix,
      service: input.settings.service,
    });
  const drift = input.fix ? await withClusterLock(input, 'config-drift', run) : await run();
  const drifted = Object.entries(drift)
    .filter(([, d]) => d.length)
    .map(([n]) => n);
  const at = new Date().toISOString();
  const synchronized: Record<string, string> = {};
  for (const n of input.nodes) {
    const keys = drift[n.name] ?? [];
    if (input.fix) for (const d of keys) book.changed(n.name, `${d.key} set as on ${input.reference}`);
    if (n.name !== input.reference && (input.fix || !keys.length)) synchronized[n.name] = at;
    book.finish(
      n.name,
      keys.length ? (input.fix ? 'fixed' : 'drift') : 'ok',
      [keys.map((d) => d.key).join(', '), synchronized[n.name] && `synchronized ${at}`]
        .filter(Boolean)
        .join('; '),
    );
  }
  // The UI shows a run's memo: the scheduled sync's "last synchronized" per node, at a glance.
  if (patched('config-drift-last-synchronized')) upsertMemo({ lastSynchronized: synchronized });
  book.phase(drifted.length ? `${input.fix ? 'fixed' : 'drift on'} ${drifted.join(', ')}` : 'no drift');
  return {
    ...book.envelope(input.fix && drifted.length > 0),
    operation: 'config-drift',
    reference: input.reference,
    fixed: input.fix,
    drift,
    synchronized,
    notes:
      input.fix && drifted.length
        ? [
            config.reload
              ? `${input.settings.service} reloaded on ${drifted.join(', ')}`
              : `restart ${input.settings.service} on ${drifted.join(', ')} to apply: run rolling-maintenance`,
          ]
        : [],
  };
}
