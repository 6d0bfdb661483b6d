import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadPlaybook } from '../../client/play';
import type { PlayResult } from '../../common/play';
import { hostAddress, sshArgs, up } from '../../lab/hosts';
import { labInventory, testSettings, withWorker } from './helpers';

// The lab's stand-in application (test/fixtures/app), installed by clusterflow's own play through
// Temporal, behaves as the load-balancer work needs: health page, sticky sessions, slow requests.

const HOST = 'node2';
const settings = testSettings();

async function install(): Promise<PlayResult> {
  const input = loadPlaybook(path.join(__dirname, '../fixtures/app/install.yml'), labInventory(), {
    check: false,
    diff: false,
    tags: [],
    forks: 10,
    cluster: 'lab',
    limit: HOST,
  });
  return withWorker(settings, async (client) =>
    (
      await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-app-fixture/${Date.now()}`,
        args: [input],
      })
    ).result(),
  );
}

const onHost = (command: string) =>
  spawnSync('ssh', [...sshArgs(HOST), '--', command], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();

const base = () => `http://${hostAddress(HOST)}:8080`;

beforeAll(async () => {
  await up([HOST]);
});

describe('the stand-in application fixture', () => {
  it('installs with the fixed uid/gid and answers its health page, idempotently', async () => {
    const first = await install();
    expect(first.recap[HOST]).toMatchObject({ failed: 0, unreachable: 0 });
    let health: Response | undefined;
    for (let i = 0; i < 50 && !health?.ok; i++) {
      health = await fetch(`${base()}/check.txt`).catch(() => undefined);
      if (!health?.ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(health?.status).toBe(200);
    expect(await health?.text()).toBe(`OK ${HOST}\n`);
    expect(onHost('id -u cfapp; id -g cfapp; systemctl is-enabled cfapp')).toBe('1001\n1001\nenabled');
    // a maintenance test makes a node unhealthy by creating this flag file
    onHost('touch /etc/cfapp/unhealthy');
    expect((await fetch(`${base()}/check.txt`)).status).toBe(503);
    onHost('rm -f /etc/cfapp/unhealthy');
    const again = await install();
    expect(again.recap[HOST].changed).toBe(0);
  });

  it('keeps a session sticky by its cookie and counts it, and holds slow requests', async () => {
    const first = await fetch(`${base()}/`);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie).toMatch(new RegExp(`^CFSESSION=${HOST}\\.[0-9a-f]{16}$`));
    const second = await fetch(`${base()}/`, { headers: { cookie } });
    expect(second.headers.get('set-cookie')).toBeNull();
    expect(await second.text()).toContain(`session=${cookie.split('=')[1]}`);
    const started = Date.now();
    const slow = fetch(`${base()}/slow?ms=800`, { headers: { cookie } });
    await new Promise((r) => setTimeout(r, 300));
    const during = (await (await fetch(`${base()}/sessions`)).json()) as { active: number; inflight: number };
    expect(during.inflight).toBe(1);
    expect(during.active).toBeGreaterThanOrEqual(1);
    await slow;
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    await fetch(`${base()}/logout`, { headers: { cookie } });
  });
});
