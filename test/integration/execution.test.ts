import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook } from '../../client/play';
import type { PlayResult } from '../../common/play';
import { labFiles, sshArgs, status } from '../../lab/hosts';
import { REPO_ROOT } from '../../lab/paths';
import { testSettings, withWorker } from './helpers';
import { runPlaybook } from './play-helpers';

const settings = testSettings();
const dir = mkdtempSync(path.join(tmpdir(), 'cf-exec-'));
const address = (name: string) => status().find((h) => h.name === name)!.address;
const onHost = (host: string, command: string) =>
  spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();

/** An exported history as text with every payload decoded (they are base64), so a search sees what the server stored. */
function historyText(history: unknown): string {
  return JSON.stringify(history, (key, value: unknown) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}

/** An inventory of lab hosts with extra vars per host, written next to the test's other files. */
function inventoryWith(name: string, hosts: Record<string, Record<string, unknown>>): string {
  const file = path.join(dir, `${name}.yml`);
  const all = {
    vars: { cluster_name: 'lab', ansible_user: 'root', ansible_ssh_private_key_file: labFiles.key },
    hosts: Object.fromEntries(Object.entries(hosts).map(([h, v]) => [h, { ansible_host: address(h), ...v }])),
  };
  writeFileSync(file, stringify({ all }));
  return file;
}

async function playWith(inventoryFile: string, tasks: unknown[], hosts = 'all'): Promise<PlayResult> {
  const file = path.join(dir, `play-${Date.now()}.yml`);
  writeFileSync(file, stringify([{ hosts, tasks }]));
  const input = loadPlaybook(file, loadInventory(inventoryFile), {
    check: false,
    diff: false,
    tags: [],
    forks: 10,
    cluster: 'lab',
  });
  return withWorker(settings, async (client) =>
    (
      await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-exec/${Date.now()}`,
        args: [input],
      })
    ).result(),
  );
}

describe('plays: batches and the failure budget', () => {
  const failOnNode2 = { shell: { cmd: 'test "{{ inventory_hostname }}" != node2' } };

  it('stops before the next batch once a batch is over max_fail_percentage', async () => {
    const result = await withWorker(settings, (client) =>
      runPlaybook(client, settings, [
        { hosts: 'node1,node2,node3', serial: 1, max_fail_percentage: 0, tasks: [failOnNode2] },
      ]),
    );
    expect(result.recap.node1).toMatchObject({ changed: 1, failed: 0 });
    expect(result.recap.node2).toMatchObject({ failed: 1 });
    expect(result.recap.node3).toBeUndefined();
    expect(result.aborted).toMatch(/1 of 1 hosts failed in batch 2.*1 batch\(es\) not run/);
  });

  it('goes on within the budget, dropping only the failed host from later tasks', async () => {
    const result = await withWorker(settings, (client) =>
      runPlaybook(client, settings, [
        {
          hosts: 'node1,node2,node3',
          serial: 3,
          max_fail_percentage: 50,
          tasks: [failOnNode2, { command: 'true' }],
        },
      ]),
    );
    expect(result.aborted).toBeUndefined();
    expect(result.recap.node2).toMatchObject({ failed: 1, changed: 0 });
    expect(result.recap.node1).toMatchObject({ changed: 2, failed: 0 });
    expect(result.recap.node3).toMatchObject({ changed: 2, failed: 0 });
  });
});

describe('cancellation', () => {
  it('kills the remote command and its whole process group, not just the SSH channel', async () => {
    const marker = 'sleep 3137';
    await withWorker(settings, async (client) => {
      const file = path.join(dir, 'long.yml');
      writeFileSync(
        file,
        stringify([{ hosts: 'node1', tasks: [{ shell: { cmd: `${marker} & ${marker}; wait` } }] }]),
      );
      const input = loadPlaybook(file, loadInventory(labFiles.inventory), {
        check: false,
        diff: false,
        tags: [],
        forks: 1,
        cluster: 'lab',
      });
      const handle = await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-cancel/${Date.now()}`,
        args: [input],
      });
      const running = () => onHost('node1', `pgrep -fc '^${marker}$' || true`);
      for (let i = 0; i < 50 && running() !== '2'; i++) await new Promise((r) => setTimeout(r, 200));
      expect(running()).toBe('2');
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      let left = '2';
      for (let i = 0; i < 60 && left !== '0'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        left = running();
      }
      expect(left).toBe('0');
    });
  });
});

describe('host keys, become and jump hosts', () => {
  it('refuses a host whose key changed, at once and without retrying', async () => {
    const knownHosts = path.join(dir, 'tampered_known_hosts');
    const impostor = path.join(dir, 'impostor');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', impostor]);
    writeFileSync(
      knownHosts,
      `node1,${address('node1')} ${readFileSync(`${impostor}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
    );
    const inv = inventoryWith('tampered', {
      node1: { clusterflow_known_hosts: knownHosts, clusterflow_host_key_checking: 'accept-new' },
    });
    const result = await playWith(inv, [{ command: 'true' }]);
    expect(result.recap.node1).toMatchObject({ failed: 1, changed: 0 });
    expect(result.tasks[0].hosts[0].reason).toMatch(/HOST KEY MISMATCH/);
  });

  it('with accept-new, trusts a host seen for the first time and records its key', async () => {
    const knownHosts = path.join(dir, 'fresh_known_hosts');
    const inv = inventoryWith('tofu', {
      node1: {
        ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=accept-new`,
      },
    });
    const result = await playWith(inv, [{ command: 'true' }]);
    expect(result.recap.node1).toMatchObject({ changed: 1, failed: 0 });
    const presented = onHost('node1', 'cut -d" " -f2 /etc/ssh/ssh_host_ed25519_key.pub');
    expect(readFileSync(knownHosts, 'utf8')).toContain(`node1,${address('node1')} ssh-ed25519 ${presented}`);
  });

  it('becomes root through sudo -n for an unprivileged login', async () => {
    onHost(
      'node1',
      'id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy; mkdir -p ~deploy/.ssh; cp /root/.ssh/authorized_keys ~deploy/.ssh/; chown -R deploy ~deploy/.ssh; echo "deploy ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy',
    );
    const inv = inventoryWith('become', {
      node1: { ansible_user: 'deploy', clusterflow_known_hosts: labFiles.knownHosts, ansible_become: true },
    });
    const result = await playWith(inv, [
      { copy: { dest: '/root/cf-become-proof', content: 'written as root\n' } },
    ]);
    expect(result.recap.node1).toMatchObject({ changed: 1, failed: 0 });
    expect(onHost('node1', 'stat -c %U /root/cf-become-proof && rm /root/cf-become-proof')).toBe('root');
  });

  it('reaches a host through a ProxyJump bastion', async () => {
    const inv = inventoryWith('jump', {
      node1: { clusterflow_known_hosts: labFiles.knownHosts },
      node2: {
        clusterflow_known_hosts: labFiles.knownHosts,
        ansible_ssh_common_args: '-o ProxyJump=root@node1',
      },
    });
    const result = await playWith(
      inv,
      [{ shell: { cmd: 'echo "$SSH_CLIENT" > /tmp/cf-ssh-client' } }],
      'node2',
    );
    expect(result.recap.node2).toMatchObject({ changed: 1, failed: 0 });
    // sshd on node2 saw the connection come from node1, not from the worker's machine.
    expect(onHost('node2', 'cut -d" " -f1 /tmp/cf-ssh-client')).toBe(address('node1'));
  });

  it('logs in with a password and becomes root with a sudo password, both by reference and never in history', async () => {
    const password = `pw-${Date.now()}-secret`;
    process.env.CF_TEST_PASSWORD = password;
    onHost(
      'node1',
      `id pwuser >/dev/null 2>&1 || useradd -m -s /bin/sh pwuser; echo 'pwuser:${password}' | chpasswd; echo "pwuser ALL=(ALL) ALL" > /etc/sudoers.d/pwuser; chmod 440 /etc/sudoers.d/pwuser`,
    );
    const file = path.join(dir, 'password.yml');
    writeFileSync(
      file,
      stringify({
        all: {
          hosts: {
            node1: {
              ansible_host: address('node1'),
              ansible_user: 'pwuser',
              ansible_password: 'env:CF_TEST_PASSWORD',
              ansible_become: true,
              ansible_become_password: 'env:CF_TEST_PASSWORD',
              clusterflow_known_hosts: labFiles.knownHosts,
            },
          },
        },
      }),
    );
    const playFile = path.join(dir, 'password-play.yml');
    writeFileSync(
      playFile,
      stringify([
        { hosts: 'node1', tasks: [{ copy: { dest: '/root/cf-password-proof', content: 'ok\n' } }] },
      ]),
    );
    const input = loadPlaybook(playFile, loadInventory(file), {
      check: false,
      diff: false,
      tags: [],
      forks: 1,
      cluster: 'lab',
    });
    const history = await withWorker(settings, async (client) => {
      const handle = await client.workflow.start('play', {
        taskQueue: settings.taskQueue,
        workflowId: `test-password/${Date.now()}`,
        args: [input],
      });
      const result = await handle.result();
      expect(result.recap.node1).toMatchObject({ changed: 1, failed: 0 });
      const children = [];
      for await (const wf of client.workflow.list({
        query: `WorkflowId STARTS_WITH '${handle.workflowId}'`,
      })) {
        children.push(historyText(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()));
      }
      return children.join('\n');
    });
    expect(onHost('node1', 'stat -c %U /root/cf-password-proof && rm /root/cf-password-proof')).toBe('root');
    // The reference is there (so the search can see payloads); the value is not.
    expect(history).toContain('env:CF_TEST_PASSWORD');
    expect(history).not.toContain(password);
  });

  it('authenticates through ssh-agent when the inventory names no key or password', async () => {
    const agent = spawnSync('ssh-agent', ['-s'], { encoding: 'utf8' }).stdout;
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(agent)![1];
    const pid = Number(/SSH_AGENT_PID=(\d+);/.exec(agent)![1]);
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      expect(
        spawnSync('ssh-add', [labFiles.key], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status,
      ).toBe(0);
      process.env.SSH_AUTH_SOCK = sock;
      const file = path.join(dir, 'agent.yml');
      writeFileSync(
        file,
        stringify({
          all: {
            hosts: {
              node1: { ansible_host: address('node1'), clusterflow_known_hosts: labFiles.knownHosts },
            },
          },
        }),
      );
      const result = await playWith(file, [{ command: 'true' }]);
      expect(result.recap.node1).toMatchObject({ changed: 1, failed: 0 });
    } finally {
      process.env.SSH_AUTH_SOCK = saved;
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      process.kill(pid);
    }
  });
});

describe('tags and the play CLI', () => {
  it('runs only the tasks with the asked tags, and those tagged always', async () => {
    const result = await withWorker(settings, (client) =>
      runPlaybook(
        client,
        settings,
        [
          {
            hosts: 'node1',
            tasks: [
              { name: 'config', command: 'true', tags: ['config'] },
              { name: 'restart', command: 'true', tags: 'restart' },
              { name: 'check', command: 'true', tags: ['always'] },
            ],
          },
        ],
        { tags: ['restart'] },
      ),
    );
    expect(result.tasks.map((t) => t.task)).toEqual(['restart', 'check']);
  });

  it('prints per-task lines and the recap, exits 1 when a host failed and 2 on a bad playbook', async () => {
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/clusterflow.js'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, CLUSTERFLOW_TASK_QUEUE: settings.taskQueue },
      });
    const good = path.join(dir, 'cli-play.yml');
    writeFileSync(
      good,
      stringify([
        {
          hosts: 'node1,node2',
          tasks: [{ name: 'may fail', shell: 'test "{{ inventory_hostname }}" = node1' }],
        },
      ]),
    );
    const bad = path.join(dir, 'cli-bad.yml');
    writeFileSync(
      bad,
      stringify([{ hosts: 'node1', tasks: [{ lineinfile: { path: 'relative/path', line: 'x' } }] }]),
    );
    await withWorker(settings, async () => {
      const run = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [path.join(REPO_ROOT, 'bin/clusterflow.js'), 'play', good, '-i', labFiles.inventory],
          {
            env: { ...process.env, CLUSTERFLOW_TASK_QUEUE: settings.taskQueue },
          },
        );
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.on('close', (status) => resolve({ status, stdout }));
      });
      expect(run.stdout).toMatch(/TASK \[may fail\]/);
      expect(run.stdout).toMatch(/changed: \[node1\]/);
      expect(run.stdout).toMatch(/failed: \[node2\]/);
      // Facts are gathered first, as ansible-playbook does by default: one more ok.
      expect(run.stdout).toMatch(/TASK \[Gathering Facts\]/);
      expect(run.stdout).toMatch(/node1 : ok=2 {2}changed=1 {2}unreachable=0 {2}failed=0/);
      expect(run.status).toBe(1);
    });
    const refused = cli(['play', bad, '-i', labFiles.inventory]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /task 1 \("lineinfile"\) on node1: lineinfile\.path: must be an absolute path/,
    );
  });
});
