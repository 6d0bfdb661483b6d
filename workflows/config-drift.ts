import { FailureTypes } from '../common/errors';
import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { NodesInput } from '../common/lb';
import { Phase } from '../common/search-attributes';
import { withClusterLock } from './lock';
import { acts } from './node-operations';

/** `config-drift`: the app config across nodes against the reference, node-specific keys ignored; `fix` converges. */
export async function configDrift(input: NodesInput & { fix: boolean }) {
  const config = input.settings.config;
  if (!config)
    throw ApplicationFailure.nonRetryable(
      'nodes.config: the spec names no server config to compare',
      FailureTypes.BadInput,
    );
  const run = () =>
    acts.compareConfigs({ nodes: input.nodes, reference: input.reference, config, fix: input.fix });
  const drift = input.fix ? await withClusterLock(input, 'config-drift', run) : await run();
  const drifted = Object.entries(drift)
    .filter(([, d]) => d.length)
    .map(([n]) => n);
  upsertSearchAttributes([
    {
      key: Phase,
      value: drifted.length ? `${input.fix ? 'fixed' : 'drift on'} ${drifted.join(', ')}` : 'no drift',
    },
  ]);
  return {
    cluster: input.cluster,
    reference: input.reference,
    fixed: input.fix,
    drift,
    notes:
      input.fix && drifted.length
        ? [`restart ${input.settings.service} on ${drifted.join(', ')} to apply: run rolling-maintenance`]
        : [],
  };
}
