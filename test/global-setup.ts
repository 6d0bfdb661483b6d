import { startDevServer } from '../lab/devserver';
import { status, up } from '../lab/hosts';
import { TEST_HOSTS, saveStackRecord } from './stack';

/** Integration tests run against a real dev server and real lab hosts; this brings both up. */
export default async function globalSetup(): Promise<void> {
  const server = await startDevServer();
  const existing = new Set(status().map((h) => h.name));
  await up(TEST_HOSTS);
  saveStackRecord({ serverStarted: server.started, hostsAdded: TEST_HOSTS.filter((h) => !existing.has(h)) });
}
