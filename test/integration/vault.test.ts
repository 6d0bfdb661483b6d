import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { labFiles } from '../../lab/hosts';
import type { PlayResult } from '../../common/play';
import { onHost, testSettings, withWorker } from './helpers';

// Ansible Vault through the real CLI and Temporal on lab host node2: an inline `!vault` value
// and a whole encrypted vars file (test/fixtures/vault/play, made by the real ansible-vault),
// written to the host by template and copy, shown by debug and --diff. The host gets the
// plaintext; no workflow history of the run, nor its result, nor the CLI's output has it.

const settings = testSettings();
const DIR = '/tmp/cf-vault-it';
const fixtures = path.join(__dirname, '../fixtures/vault');
const PLAINTEXTS = ['tok-9f3b2c7e1a', 'db-pw-71c2e9', 'inline-0d5e8a3f', 'cf_app_user'];
const PASSWORDS = ['cf-vault-test-password', 'a different one, for prod'];

function clusterflow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['bin/clusterflow.js', ...args, '--task-queue', settings.taskQueue],
      { env: { ...process.env, TEMPORAL_ADDRESS: settings.address }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

/** Every string of a history, payloads decoded: what anyone reading it could see. */
function textOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) value.forEach((v) => textOf(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => textOf(v, out));
  return out;
}

/** The run's workflow and its batch children, by ID prefix, once visibility lists them all. */
async function runHistories(client: Client, workflowId: string): Promise<Map<string, string>> {
  const query = `WorkflowId STARTS_WITH "${workflowId}"`;
  for (let attempt = 0; ; attempt++) {
    const ids: { id: string; runId: string }[] = [];
    for await (const w of client.workflow.list({ query })) ids.push({ id: w.workflowId, runId: w.runId });
    if (ids.length >= 2 || attempt > 40) {
      const histories = new Map<string, string>();
      for (const { id, runId } of ids)
        histories.set(id, textOf(await client.workflow.getHandle(id, runId).fetchHistory()).join('\n'));
      return histories;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('ansible-vault on a lab host', () => {
  beforeAll(() => onHost('node2', `rm -rf ${DIR}`));
  afterAll(() => onHost('node2', `rm -rf ${DIR}`));

  it('writes the secrets to the host and keeps them out of every history, the result and the output', async () => {
    await withWorker(settings, async (client) => {
      const run = await clusterflow([
        'play',
        path.join(fixtures, 'play/site.yml'),
        '-i',
        labFiles.inventory,
        '--vault-password-file',
        path.relative(process.cwd(), path.join(fixtures, 'test-password')),
        '--vault-id',
        `prod@${path.join(fixtures, 'prod-password')}`,
        '--diff',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      // --diff shows the template's change, the secrets in it hidden.
      expect(run.stdout).toContain('+token=********');
      expect(run.stdout).toContain('+db=********:********');
      for (const p of [...PLAINTEXTS, ...PASSWORDS]) expect(run.stdout).not.toContain(p);

      expect(onHost('node2', `cat ${DIR}/secret.conf`)).toBe(
        'token=tok-9f3b2c7e1a\ndb=cf_app_user:db-pw-71c2e9\ninline=inline-0d5e8a3f',
      );
      expect(onHost('node2', `cat ${DIR}/derived.txt; stat -c %a ${DIR}/secret.conf`)).toBe(
        'tok-9f3b2c7e1a-derived\n600',
      );

      const workflowId = /^workflow (\S+)$/m.exec(run.stdout)![1];
      const result: PlayResult = await client.workflow.getHandle(workflowId).result();
      expect(result.recap.node2).toMatchObject({ failed: 0, changed: 3 });
      const debug = result.tasks.find((t) => t.task === 'show the token')!.hosts[0].result;
      expect(debug).toMatchObject({ msg: 'cf_vault_token: ********', data: { cf_vault_token: '********' } });
      const read = result.tasks.find((t) => t.task === 'read it back')!.hosts[0].result;
      expect(read?.stdout).toBe('token=********\ndb=********:********\ninline=********');
      for (const p of [...PLAINTEXTS, ...PASSWORDS]) expect(JSON.stringify(result)).not.toContain(p);

      const histories = await runHistories(client, workflowId);
      expect([...histories.keys()].sort()).toEqual([workflowId, `${workflowId}/play-1/batch-1`]);
      for (const [id, text] of histories) {
        // What the scan reads is what the run carried: the vaulted values' names and ciphertext.
        expect({
          id,
          sees: text.includes('cf_vault_token') && text.includes('$ANSIBLE_VAULT;1.2;AES256;prod'),
        }).toEqual({ id, sees: true });
        for (const p of [...PLAINTEXTS, ...PASSWORDS])
          expect({ id, leaks: text.includes(p) ? p : undefined }).toEqual({ id, leaks: undefined });
      }
    });
  });
});
