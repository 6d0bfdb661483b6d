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
  // A test of one behaviour gathers no facts unless its play asks (Ansible's default is to gather).
  writeFileSync(
    file,
    stringify(
      plays.map((p) =>
        p && typeof p === 'object' && !('import_playbook' in p) ? { gather_facts: false, ...p } : p,
      ),
    ),
  );
  return runPlaybookFile(client, settings, file, options);
}

/** Runs a playbook file (with its imports, roles and files beside it) as `clusterflow play` does. */
export async function runPlaybookFile(
  client: Client,
  settings: TemporalSettings,
  file: string,
  options: {
    check?: boolean;
    diff?: boolean;
    limit?: string;
    tags?: string[];
    inventory?: ReturnType<typeof labInventory>;
  } = {},
): Promise<PlayResult> {
  const input = loadPlaybook(file, options.inventory ?? labInventory(), {
    check: Boolean(options.check),
    diff: Boolean(options.diff),
    tags: options.tags ?? [],
    forks: 50,
    cluster: 'lab',
    limit: options.limit,
  });
  const handle = await client.workflow.start('play', {
    taskQueue: settings.taskQueue,
    workflowId: `test-play/${Date.now()}-${++n}`,
    args: [input],
  });
  return handle.result();
}

/** Total changed tasks per host in a result. */
export const changedCount = (r: PlayResult, host: string) => r.recap[host]?.changed ?? 0;
