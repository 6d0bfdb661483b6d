import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createWorker } from '../../worker';
import { clientDataConverter } from '../../worker/codec';
import type { LicenseInput } from '../../common/license';
import { historyText, testSettings } from './helpers';

// Payload encryption end to end through the dev server: a worker and a client sharing a key see
// plain values; Temporal's history (read without the key) holds only ciphertext, failure messages
// included.

const settings = testSettings();
process.env.CF_TEST_CODEC_KEY = randomBytes(32).toString('base64');
const CLUSTER = `secret-cluster-${randomBytes(4).toString('hex')}`;
// workflow IDs are never encrypted: they must not carry the secret-looking value
const RUN = randomBytes(4).toString('hex');
// A license run over no nodes: a real workflow that needs no lab host.
const input: LicenseInput = {
  cluster: CLUSTER,
  nodes: [],
  section: {
    driver: 'command',
    command: {
      check: 'c',
      activate: 'a',
      deactivate: 'd',
      keyVia: 'stdin',
      notActiveExitCodes: [3],
      refusedExitCodes: [4],
    },
    concurrency: 1,
    expiryWarningDays: 30,
    retryForHours: 1,
    maxRetryIntervalSeconds: 10,
  },
};

it('keeps inputs, results and failure messages encrypted in history, readable only with the key', async () => {
  const native = await NativeConnection.connect({ address: settings.address });
  const connection = await Connection.connect({ address: settings.address });
  const secret = new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: clientDataConverter('env:CF_TEST_CODEC_KEY'),
  });
  const plain = new Client({ connection, namespace: settings.namespace });
  try {
    const worker = await createWorker({
      connection: native,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      codecKey: 'env:CF_TEST_CODEC_KEY',
    });
    await worker.runUntil(async () => {
      const ok = await secret.workflow.execute('licenseStatus', {
        taskQueue: settings.taskQueue,
        workflowId: `codec-status-${RUN}`,
        args: [input],
      });
      expect(ok).toMatchObject({ cluster: CLUSTER, operation: 'license-status', ok: true });

      const failed = await secret.workflow
        .execute('licenseActivation', {
          taskQueue: settings.taskQueue,
          workflowId: `codec-activation-${RUN}`,
          args: [{ ...input, force: false }],
        })
        .catch((e) => e);
      expect(failed).toBeInstanceOf(WorkflowFailedError);
      expect(failed.cause.message).toBe('license.hosts: no nodes to activate');
    });

    const status = await historyText(plain, `codec-status-${RUN}`);
    expect(status).toContain('binary/encrypted');
    expect(status).not.toContain(CLUSTER);
    const activation = await historyText(plain, `codec-activation-${RUN}`);
    expect(activation).toContain('Encoded failure');
    expect(activation).not.toContain('no nodes to activate');
    // without the key the result cannot be read back
    await expect(plain.workflow.getHandle(`codec-status-${RUN}`).result()).rejects.toThrow();
  } finally {
    await connection.close();
    await native.close();
  }
});
