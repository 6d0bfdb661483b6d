import { spawnSync } from 'node:child_process';
import { sshArgs } from '../../lab/hosts';
import { testSettings, withWorker } from './helpers';
import { changedCount, runPlaybook } from './play-helpers';

const settings = testSettings();
const HOST = 'node1';

function onHost(command: string): string {
  const r = spawnSync('ssh', [...sshArgs(HOST), '--', command], { encoding: 'utf8', timeout: 30_000 });
  return `${r.status}|${r.stdout}`;
}

interface Case {
  module: string;
  tasks: Record<string, unknown>[];
  /** Prints the host state the tasks change. */
  probe: string;
  setup?: string;
  cleanup?: string;
}

const D = '/tmp/cf-it';
const CASES: Case[] = [
  {
    module: 'copy',
    tasks: [{ copy: { dest: `${D}/copy.txt`, content: 'hello\n', mode: '0640' } }],
    probe: `cat ${D}/copy.txt; stat -c %a ${D}/copy.txt`,
  },
  {
    module: 'template',
    tasks: [
      { template: { dest: `${D}/app.conf`, content: 'host={{ inventory_hostname }}\nport={{ port }}\n' } },
    ],
    probe: `cat ${D}/app.conf`,
  },
  {
    module: 'lineinfile',
    tasks: [{ lineinfile: { path: `${D}/lines`, line: 'listen 8080', regexp: '^listen ', create: true } }],
    probe: `cat ${D}/lines`,
  },
  {
    module: 'blockinfile',
    tasks: [{ blockinfile: { path: `${D}/block`, block: 'a=1\nb=2', create: true } }],
    probe: `cat ${D}/block`,
  },
  {
    module: 'properties',
    setup: `printf '# server\\nhostname=old\\nnodeid=abc\\n' > ${D}/server.properties`,
    tasks: [
      {
        properties: {
          path: `${D}/server.properties`,
          set: { hostname: '{{ inventory_hostname }}' },
          remove: ['nodeid'],
        },
      },
    ],
    probe: `cat ${D}/server.properties`,
  },
  {
    module: 'ini',
    tasks: [
      {
        ini: {
          path: `${D}/my.cnf`,
          settings: { mysqld: { 'server-id': 11, log_bin: 'mysql-bin', 'log-slave-updates': '' } },
        },
      },
    ],
    probe: `cat ${D}/my.cnf`,
  },
  {
    module: 'file',
    tasks: [
      { file: { path: `${D}/dir`, state: 'directory', mode: '0750' } },
      { file: { path: `${D}/link`, state: 'link', src: `${D}/dir` } },
    ],
    probe: `stat -c '%F %a' ${D}/dir; readlink ${D}/link`,
  },
  {
    module: 'service',
    tasks: [{ service: { name: 'nginx', state: 'started', enabled: true } }],
    probe: 'systemctl is-active nginx; systemctl is-enabled nginx',
    cleanup: 'systemctl disable --now nginx',
  },
  {
    module: 'package',
    // A real package built on the host: the lab has no route to a mirror.
    setup: [
      `mkdir -p ${D}/pkg/DEBIAN ${D}/pkg/usr/share/cf-demo`,
      `printf 'Package: cf-demo\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: lab <lab@example.org>\\nDescription: demo\\n' > ${D}/pkg/DEBIAN/control`,
      `echo demo > ${D}/pkg/usr/share/cf-demo/README`,
      `dpkg-deb --build ${D}/pkg ${D}/cf-demo.deb >/dev/null`,
    ].join(' && '),
    tasks: [{ package: { deb: `${D}/cf-demo.deb` } }],
    probe: "dpkg-query -W -f='${Status} ${Version}' cf-demo 2>/dev/null",
    cleanup: 'dpkg -r cf-demo >/dev/null',
  },
  {
    module: 'group and user',
    tasks: [
      { group: { name: 'cfsvc', gid: 1501 } },
      { user: { name: 'cfsvc', uid: 1501, group: 'cfsvc', shell: '/bin/sh' } },
    ],
    probe: 'getent group cfsvc; getent passwd cfsvc',
    cleanup: 'userdel -r cfsvc 2>/dev/null; groupdel cfsvc 2>/dev/null; true',
  },
  {
    module: 'mount',
    tasks: [{ mount: { path: '/mnt/cf-it', src: 'tmpfs', fstype: 'tmpfs', opts: 'size=8m' } }],
    probe: 'grep cf-it /etc/fstab; findmnt -rn -o FSTYPE,OPTIONS /mnt/cf-it | cut -d, -f1',
    cleanup: "umount /mnt/cf-it; sed -i '\\#/mnt/cf-it#d' /etc/fstab",
  },
  {
    module: 'command',
    tasks: [{ command: { argv: ['touch', `${D}/created`], creates: `${D}/created` } }],
    probe: `ls ${D}/created`,
  },
  {
    module: 'shell',
    tasks: [{ shell: { cmd: `echo "$((6*7))" > ${D}/answer`, creates: `${D}/answer` } }],
    probe: `cat ${D}/answer`,
  },
];

describe('modules through Temporal on a lab host: apply, re-apply changes nothing, check mode changes nothing', () => {
  beforeAll(() => {
    onHost(`rm -rf ${D}; mkdir -p ${D}`);
  });
  afterAll(() => {
    onHost(
      CASES.map((c) => c.cleanup)
        .filter(Boolean)
        .join('; ') + `; rm -rf ${D}`,
    );
  });

  it.each(CASES.map((c) => [c.module, c]))('%s', async (_, c) => {
    if (c.setup) expect(onHost(c.setup)).toMatch(/^0\|/);
    const plays = [{ hosts: HOST, vars: { port: 8080 }, tasks: c.tasks }];
    const before = onHost(c.probe);
    await withWorker(settings, async (client) => {
      const checked = await runPlaybook(client, settings, plays, { check: true });
      expect(checked.recap[HOST].failed).toBe(0);
      expect(checked.recap[HOST].changed + checked.recap[HOST].skipped).toBeGreaterThan(0);
      expect(onHost(c.probe)).toBe(before);

      const applied = await runPlaybook(client, settings, plays);
      expect(applied.recap[HOST]).toMatchObject({ failed: 0, unreachable: 0 });
      expect(changedCount(applied, HOST)).toBe(c.tasks.length);
      const after = onHost(c.probe);
      expect(after).not.toBe(before);

      const again = await runPlaybook(client, settings, plays);
      expect(again.recap[HOST]).toMatchObject({ changed: 0, failed: 0 });
      expect(onHost(c.probe)).toBe(after);

      const checkedAgain = await runPlaybook(client, settings, plays, { check: true });
      expect(checkedAgain.recap[HOST]).toMatchObject({ changed: 0, failed: 0, skipped: 0 });
    });
  });

  it('wait_for sees an open port and fails with a timeout on a closed one', async () => {
    await withWorker(settings, async (client) => {
      const open = await runPlaybook(client, settings, [
        { hosts: HOST, tasks: [{ wait_for: { port: 22, timeout: 5 } }] },
      ]);
      expect(open.recap[HOST]).toMatchObject({ ok: 1, failed: 0 });
      const closed = await runPlaybook(client, settings, [
        { hosts: HOST, tasks: [{ wait_for: { port: 1, timeout: 1, sleep: 0.2 } }] },
      ]);
      expect(closed.recap[HOST].failed).toBe(1);
      expect(closed.tasks[0].hosts[0].result?.msg).toMatch(/timed out after 1s/);
      const drained = await runPlaybook(client, settings, [
        {
          hosts: HOST,
          tasks: [
            { wait_for: { port: 8099, state: 'drained', timeout: 2 } },
            { wait_for: { path: '/etc/os-release', search_regex: '^ID=debian$', timeout: 2 } },
          ],
        },
      ]);
      expect(drained.recap[HOST]).toMatchObject({ ok: 2, failed: 0 });
      // An open SSH session is an established connection on port 22: not drained.
      const busy = await runPlaybook(client, settings, [
        { hosts: HOST, tasks: [{ wait_for: { port: 22, state: 'drained', timeout: 1 } }] },
      ]);
      expect(busy.recap[HOST].failed).toBe(1);
    });
  });

  it('user refuses an id that another account holds, changing nothing', async () => {
    await withWorker(settings, async (client) => {
      const r = await runPlaybook(client, settings, [
        { hosts: HOST, tasks: [{ user: { name: 'cfdup', uid: 0 } }] },
      ]);
      expect(r.recap[HOST].failed).toBe(1);
      expect(r.tasks[0].hosts[0].result?.msg).toMatch(/id 0 already belongs to user root/);
      expect(onHost('getent passwd cfdup')).toMatch(/^2\|/);
    });
  });
});
