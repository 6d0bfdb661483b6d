import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { sshArgs } from '../../lab/hosts';
import type { PlayResult } from '../../common/play';
import { labInventory, testSettings, withWorker } from './helpers';
import { runPlaybookFile } from './play-helpers';

// Who runs a task and where, as ansible-core decides it: become_user through sudo and su,
// environment, check_mode per task, run_once, delegate_to (another host, and localhost: the
// worker), any_errors_fatal, ignore_unreachable, facts gathered by default, magic variables,
// omit, and a playbook imported from another file.

const settings = testSettings();
const D = '/tmp/cf-kw';
const dir = mkdtempSync(path.join(tmpdir(), 'cf-kw-'));
const local = path.join(dir, 'on-the-worker');

function onHost(host: string, command: string): string {
  const r = spawnSync('ssh', [...sshArgs(host), '--', command], { encoding: 'utf8', timeout: 30_000 });
  return r.stdout.trim();
}

const out = (r: PlayResult, task: string, host: string) =>
  r.tasks.find((t) => t.task === task)?.hosts.find((h) => h.host === host)?.result;

describe('play keywords through Temporal on lab hosts', () => {
  beforeAll(() => {
    for (const h of ['node1', 'node2']) onHost(h, `rm -rf ${D}; mkdir -p ${D}`);
  });
  afterAll(() => {
    for (const h of ['node1', 'node2']) onHost(h, `rm -rf ${D}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs tasks as the user, with the environment, on the host and at the place they name', async () => {
    writeFileSync(
      path.join(dir, 'other.yml'),
      stringify([
        {
          name: 'imported',
          hosts: 'node1',
          gather_facts: false,
          tasks: [{ name: 'imported task', command: 'echo {{ from_import }}', register: 'imp' }],
        },
      ]),
    );
    writeFileSync(
      path.join(dir, 'site.yml'),
      stringify([
        {
          name: 'keywords',
          hosts: 'node1,node2',
          environment: { CF_GREETING: 'hi {{ inventory_hostname }}' },
          tasks: [
            { name: 'sudo', command: 'id -un', become: true, become_user: 'www-data' },
            { name: 'su', command: 'id -un', become: true, become_method: 'su', become_user: 'nobody' },
            { name: 'env', shell: 'echo "$CF_GREETING $CF_MORE"', environment: { CF_MORE: 'more' } },
            { name: 'never in check', copy: { dest: `${D}/checked`, content: 'x' }, check_mode: true },
            { name: 'pick', set_fact: { picked: '{{ inventory_hostname }}' }, run_once: true },
            { name: 'picked', copy: { dest: `${D}/picked`, content: '{{ picked }}' } },
            { name: 'on node2', command: 'hostname', delegate_to: 'node2' },
            {
              name: 'on the worker',
              shell: `echo {{ inventory_hostname }} >> ${local}; hostname`,
              delegate_to: 'localhost',
            },
            { name: 'facts', debug: { msg: '{{ ansible_os_family }} {{ ansible_facts.distribution }}' } },
            { name: 'regather', setup: { filter: ['ansible_python*', 'ansible_pkg_mgr'] } },
            {
              name: 'python',
              debug: {
                msg: '{{ ansible_python.version.major }} {{ ansible_facts.pkg_mgr }} {{ ansible_os_family }}',
              },
            },
            {
              name: 'magic',
              debug: {
                msg: "{{ group_names | length }} {{ ansible_play_hosts | join(',') }} {{ playbook_dir }}",
              },
            },
            {
              name: 'omit',
              file: { path: `${D}/omit`, state: 'touch', mode: '{{ no_mode | default(omit) }}' },
            },
            { name: 'ping', ping: {} },
            { name: 'raw', raw: 'echo raw $((1+1))' },
            { name: 'locally', local_action: 'command echo {{ inventory_hostname }}' },
            { name: 'end node2', meta: 'end_host', when: "inventory_hostname == 'node2'" },
            { name: 'only node1', command: 'true' },
          ],
        },
        { import_playbook: 'other.yml', vars: { from_import: 'imported!' } },
      ]),
    );
    await withWorker(settings, async (client) => {
      const r = await runPlaybookFile(client, settings, path.join(dir, 'site.yml'));
      expect(r.recap.node1).toMatchObject({ failed: 0, unreachable: 0 });
      expect(r.recap.node2).toMatchObject({ failed: 0, unreachable: 0 });
      expect(r.tasks[0].task).toBe('Gathering Facts');
      expect(out(r, 'sudo', 'node1')?.stdout).toBe('www-data');
      expect(out(r, 'su', 'node2')?.stdout).toBe('nobody');
      expect(out(r, 'env', 'node2')?.stdout).toBe('hi node2 more');
      expect(onHost('node1', `test -e ${D}/checked && echo yes || echo no`)).toBe('no');
      // run_once: one host ran it, every host has the fact.
      expect(r.tasks.find((t) => t.task === 'pick')?.hosts.map((h) => h.host)).toEqual(['node1']);
      expect(onHost('node2', `cat ${D}/picked`)).toBe('node1');
      expect(out(r, 'on node2', 'node1')?.stdout).toBe('node2');
      expect(out(r, 'on the worker', 'node1')?.stdout).toBe(os.hostname());
      expect(readFileSync(local, 'utf8').split('\n').sort()).toEqual(['', 'node1', 'node2']);
      expect(out(r, 'facts', 'node1')?.msg).toBe('Debian Debian');
      // setup mid-play: the facts it filters to are set, the others gathered before are kept.
      expect(Object.keys(out(r, 'regather', 'node1')?.data?.ansible_facts ?? {}).sort()).toEqual([
        'ansible_pkg_mgr',
        'ansible_python',
        'ansible_python_version',
      ]);
      expect(out(r, 'python', 'node1')?.msg).toBe('3 apt Debian');
      expect(out(r, 'magic', 'node1')?.msg).toMatch(new RegExp(`^\\d+ node1,node2 ${dir}$`));
      expect(onHost('node1', `stat -c %a ${D}/omit`)).toMatch(/^6[46]4$/);
      expect(out(r, 'imported task', 'node1')?.stdout).toBe('imported!');
      expect(out(r, 'ping', 'node2')?.data).toEqual({ ping: 'pong' });
      expect(out(r, 'raw', 'node1')?.stdout).toBe('raw 2');
      expect(out(r, 'locally', 'node2')?.stdout).toBe('node2');
      expect(r.tasks.find((t) => t.task === 'only node1')?.hosts.map((h) => h.host)).toEqual(['node1']);
      expect(r.recap.node2.failed).toBe(0);
    });
  });

  it('lets each host run ahead under strategy free, not waiting for the slowest', async () => {
    writeFileSync(
      path.join(dir, 'free.yml'),
      stringify([
        {
          hosts: 'node1,node2',
          gather_facts: false,
          strategy: 'free',
          tasks: [
            { name: 'slow on node1', command: "sleep {{ 3 if inventory_hostname == 'node1' else 0 }}" },
            { name: 'next', command: 'true' },
          ],
        },
      ]),
    );
    await withWorker(settings, async (client) => {
      const r = await runPlaybookFile(client, settings, path.join(dir, 'free.yml'));
      // node2 finished both tasks while node1 still slept.
      expect(r.tasks.map((t) => `${t.task} ${t.hosts.map((h) => h.host).join(',')}`)).toEqual([
        'slow on node1 node2',
        'next node2',
        'slow on node1 node1',
        'next node1',
      ]);
    });
  });

  it('stops the play on every host at an any_errors_fatal failure; keeps an unreachable host with ignore_unreachable', async () => {
    const inv = labInventory();
    // A lab address with nothing listening on the port: refused at once, so unreachable fast.
    inv.hostVars.set('ghost', { ansible_host: '10.77.0.12', ansible_port: 1 });
    inv.groups.get('all')!.hosts.add('ghost');
    writeFileSync(
      path.join(dir, 'fatal.yml'),
      stringify([
        {
          hosts: 'node1,node2',
          gather_facts: false,
          tasks: [
            {
              name: 'boom',
              fail: { msg: 'no' },
              when: "inventory_hostname == 'node1'",
              any_errors_fatal: true,
            },
            { name: 'after', command: 'true' },
          ],
        },
        { hosts: 'node1', gather_facts: false, tasks: [{ name: 'next play', command: 'true' }] },
      ]),
    );
    await withWorker(settings, async (client) => {
      const r = await runPlaybookFile(client, settings, path.join(dir, 'fatal.yml'), { inventory: inv });
      expect(r.aborted).toMatch(/any_errors_fatal/);
      expect(r.tasks.map((t) => t.task)).toEqual(['boom']);
      expect(r.recap.node1.failed).toBe(1);
      expect(r.recap.node2.failed).toBe(0);
    });
    writeFileSync(
      path.join(dir, 'unreachable.yml'),
      stringify([
        {
          hosts: 'node1,ghost',
          gather_facts: false,
          ignore_unreachable: true,
          tasks: [
            { name: 'first', command: 'true' },
            { name: 'second', command: 'true' },
          ],
        },
      ]),
    );
    await withWorker(settings, async (client) => {
      const r = await runPlaybookFile(client, settings, path.join(dir, 'unreachable.yml'), {
        inventory: inv,
      });
      expect(r.tasks.find((t) => t.task === 'second')?.hosts.map((h) => [h.host, h.status])).toEqual([
        ['node1', 'changed'],
        ['ghost', 'unreachable'],
      ]);
      expect(r.recap.ghost.unreachable).toBe(2);
    });
  });
});
