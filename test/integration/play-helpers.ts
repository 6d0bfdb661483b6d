import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import type { TemporalSettings } from '../../client/connection';
import { loadPlaybook } from '../../client/play';
import type { PlayResult } from '../../common/play';
import { labInventory } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'cf-plays-'));
let n = 0;

/** Writes plays to a playbook file and runs it through the same path as `clusterflow play`. */
export async function runPlaybook(
  client: Client,
  settings: TemporalSettings,
  plays: unknown[],
  options: { check?: boolean; diff?: boolean; limit?: string; tags?: string[] } = {},
): Promise<PlayResult> {
  const file = path.join(dir, `play-${++n}.yml`);
  writeFileSync(file, stringify(plays));
  const input = loadPlaybook(file, labInventory(), {
    check: Boolean(options.check),
    diff: Boolean(options.diff),
    tags: options.tags ?? [],
    forks: 50,
    cluster: 'lab',
    limit: options.limit,
  });
  const handle = await client.workflow.start('play', {
    taskQueue: settings.taskQueue,
    workflowId: `test-play/${Date.now()}-${n}`,
    args: [input],
  });
  return handle.result();
}

/** Total changed tasks per host in a result. */
export const changedCount = (r: PlayResult, host: string) => r.recap[host]?.changed ?? 0;
