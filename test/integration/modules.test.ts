import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sshArgs } from '../../lab/hosts';
import { testSettings, withWorker } from './helpers';
import { runPlaybook } from './play-helpers';
import type { PlayResult } from '../../common/play';
import { createHash } from 'node:crypto';
import { stop } from '../../lab/hosts';
import {
  APT_REPO_CLEANUP,
  aptRepoSetup,
  echoServerStart,
  echoServerStop,
  localArchive,
  restartWhenDown,
} from './module-fixtures';
import {
  APT_KEY_CLEANUP,
  AUTHORIZED_KEY_CLEANUP,
  AUTHORIZED_KEY_SETUP,
  FIRST_KEY,
  KEY_SHA256,
  SSH_KEYS,
  aptKeySetup,
  aptRepositorySetup,
} from './key-fixtures';

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
  /** What the probe prints once applied, where the exact text matters (a format another tool reads). */
  applied?: string;
  setup?: string;
  cleanup?: string;
}

const D = '/tmp/cf-it';
const SCRIPTS = path.join(__dirname, '../fixtures/scripts');
// The lab image has no cron package: a stand-in with crontab(1)'s interface (-u, -l, -r, a file
// or - for stdin) keeps a user's crontab in the spool, so the user-crontab path runs over SSH.
const CRONTAB_STAND_IN = `command -v crontab >/dev/null || { cat > /usr/local/bin/crontab <<'EOF'
#!/bin/sh
# cf-it-stand-in
u=$(id -un); if [ "$1" = -u ]; then u=$2; shift 2; fi
f=/var/spool/cron/crontabs/$u
case "$1" in
  -l) [ -f "$f" ] || { echo "no crontab for $u" >&2; exit 1; }; exec cat "$f" ;;
  -r) exec rm -f "$f" ;;
  *) mkdir -p /var/spool/cron/crontabs && cat -- "$1" > "$f" ;;
esac
EOF
chmod 755 /usr/local/bin/crontab; }`;
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
    // As geerlingguy.mysql makes its log files: touch that keeps times is a change only once; an
    // explicit time is set once; an SELinux type is ignored on a host without SELinux.
    module: 'file times',
    tasks: [
      {
        file: {
          path: `${D}/slow.log`,
          state: 'touch',
          mode: '0640',
          modification_time: 'preserve',
          access_time: 'preserve',
          setype: 'mysqld_log_t',
        },
      },
      { file: { path: `${D}/stamped`, state: 'directory', modification_time: '202601020304.05' } },
    ],
    probe: `stat -c '%a %n' ${D}/slow.log; date -u -d @$(stat -c %Y ${D}/stamped) +%Y%m%d%H%M.%S`,
  },
  {
    // Debian's /etc/mysql/my.cnf is a link into /etc/alternatives: as in ansible-core, copy and
    // template replace the link by the file; lineinfile edits the file the link points to.
    module: 'links at dest',
    setup: `printf 'old\\n' > ${D}/ln-alt.cnf && ln -sfn ${D}/ln-alt.cnf ${D}/ln-my.cnf && printf 'a=1\\n' > ${D}/ln-real.conf && ln -sfn ${D}/ln-real.conf ${D}/ln-link.conf`,
    tasks: [
      { copy: { dest: `${D}/ln-my.cnf`, content: '[mysqld]\n' } },
      { lineinfile: { path: `${D}/ln-link.conf`, line: 'b=2' } },
    ],
    probe: `stat -c %F ${D}/ln-my.cnf ${D}/ln-link.conf; cat ${D}/ln-my.cnf ${D}/ln-alt.cnf ${D}/ln-real.conf`,
    applied: '0|regular file\nsymbolic link\n[mysqld]\nold\na=1\nb=2\n',
  },
  {
    // The worker's script, sent to the host and run there with its arguments (free-form, as roles write it).
    module: 'script',
    tasks: [
      {
        script: `${SCRIPTS}/stamp.sh 'hello world' ${D}/scripted creates=${D}/scripted`,
        args: { executable: 'sh' },
      },
    ],
    probe: `cat ${D}/scripted`,
    applied: '0|hello world from tmp\n',
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
  {
    module: 'replace',
    setup: `printf 'ListenAddress 10.0.0.1\\n[lan]\\nhost=localhost\\n[wan]\\nhost=localhost\\n' > ${D}/replace.conf`,
    tasks: [
      { replace: { path: `${D}/replace.conf`, regexp: '^(ListenAddress) .*$', replace: '\\1 0.0.0.0' } },
      {
        replace: {
          path: `${D}/replace.conf`,
          regexp: 'localhost',
          replace: '{{ inventory_hostname }}',
          after: '\\[lan\\]',
          before: '\\[wan\\]',
        },
      },
    ],
    probe: `cat ${D}/replace.conf`,
    applied: '0|ListenAddress 0.0.0.0\n[lan]\nhost=node1\n[wan]\nhost=localhost\n',
  },
  {
    // The file side only: the lab's /proc/sys is read-only, so `sysctl -p` (reload) fails there.
    module: 'sysctl',
    setup: `printf '# lab\\nvm.swappiness = 60\\n' > ${D}/sysctl.conf`,
    tasks: [
      { sysctl: { name: 'vm.overcommit_memory', value: 1, sysctl_file: `${D}/sysctl.conf`, reload: false } },
    ],
    probe: `cat ${D}/sysctl.conf`,
    applied: '0|# lab\nvm.swappiness=60\nvm.overcommit_memory=1\n',
  },
  {
    module: 'cron',
    setup: CRONTAB_STAND_IN,
    tasks: [
      {
        cron: {
          name: 'cf-it backup',
          minute: 0,
          hour: 2,
          job: '/usr/local/bin/backup',
          user: 'root',
          cron_file: 'cf-it',
        },
      },
      { cron: { name: 'MAILTO', env: true, job: 'ops@example.org', user: 'root', cron_file: 'cf-it' } },
      { cron: { name: 'cf-it rotate', special_time: 'daily', job: '/usr/local/bin/rotate' } },
    ],
    probe: 'cat /etc/cron.d/cf-it; crontab -l',
    // ansible-core's own format, so either tool finds the other's jobs by their marker.
    applied: [
      '0|MAILTO="ops@example.org"',
      '#Ansible: cf-it backup',
      '0 2 * * * root /usr/local/bin/backup',
      '#Ansible: cf-it rotate',
      '@daily /usr/local/bin/rotate\n',
    ].join('\n'),
    cleanup: `rm -f /etc/cron.d/cf-it; crontab -r 2>/dev/null; grep -qs cf-it-stand-in /usr/local/bin/crontab && rm -f /usr/local/bin/crontab`,
  },
  {
    module: 'systemd',
    setup: `printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n' > /etc/systemd/system/cf-it.service`,
    tasks: [
      { systemd: { name: 'cf-it', daemon_reload: true, state: 'started', enabled: true } },
      // A unit can be masked before it is installed.
      { systemd_service: { name: 'cf-it-later.service', masked: true } },
    ],
    probe: 'systemctl is-active cf-it; systemctl is-enabled cf-it; systemctl is-enabled cf-it-later 2>&1',
    cleanup:
      'systemctl disable --now cf-it; systemctl unmask cf-it-later; rm -f /etc/systemd/system/cf-it.service; systemctl daemon-reload',
  },
  {
    module: 'apt',
    setup: aptRepoSetup(D),
    tasks: [
      { apt: { update_cache: true, cache_valid_time: 3600 } },
      { apt: { name: 'cf-pin=1.*', default_release: 'cflab', policy_rc_d: 101, install_recommends: false } },
    ],
    // The version, what policy-rc.d said during the install, that it is gone, the lists' age.
    probe: `dpkg-query -W -f='\${Version}' cf-pin; echo; cat ${D}/policy-rc; ls /usr/sbin/policy-rc.d; stat -c %Y /var/lib/apt/lists`,
    cleanup: APT_REPO_CLEANUP,
  },
  {
    // After the apt case: its setup points apt at local repositories alone, so the update works.
    module: 'apt_repository',
    setup: aptRepositorySetup(D),
    tasks: [
      {
        apt_repository: {
          repo: `deb [trusted=yes] file:${D}/repo2 ./`,
          state: 'absent',
          update_cache: false,
        },
      },
      { apt_repository: { repo: `deb  [trusted=yes] file:${D}/repo3 ./`, mode: '0640' } },
    ],
    // The sources files, their modes, and the new repository's lists from the update.
    probe: `cd ${D}/no-parts && stat -c '%a %n' *.list && cat *.list && ls /var/lib/apt/lists | grep -c repo3`,
    applied: [
      '0|640 file_tmp_cf_it_repo3.list',
      '644 old.list',
      `deb [trusted=yes] file:${D}/repo3 ./`,
      '# old mirror',
      '1\n',
    ].join('\n'),
  },
  {
    module: 'apt_key',
    setup: aptKeySetup(D),
    tasks: [
      { apt_key: { data: FIRST_KEY.asc } },
      {
        apt_key: {
          url: 'http://127.0.0.1/cf-it-keys/second.asc',
          keyring: '/etc/apt/trusted.gpg.d/cf-it.asc',
        },
      },
      { apt_key: { id: FIRST_KEY.id, keyring: `${D}/old.gpg`, state: 'absent' } },
    ],
    // The armored keyring's body decoded: binary keyrings as gpg exports them.
    probe: `cd /etc/apt/trusted.gpg.d && sha256sum apt_key-*.gpg ${D}/old.gpg; sed '1,/^$/d;/^=/,$d' cf-it.asc | base64 -d | sha256sum`,
    applied: [
      `0|${KEY_SHA256.first}  apt_key-${FIRST_KEY.id}.gpg`,
      `${KEY_SHA256.second}  ${D}/old.gpg`,
      `${KEY_SHA256.second}  -\n`,
    ].join('\n'),
    cleanup: APT_KEY_CLEANUP,
  },
  {
    module: 'authorized_key',
    setup: AUTHORIZED_KEY_SETUP,
    tasks: [
      {
        authorized_key: {
          user: 'cf-keys',
          key: `${SSH_KEYS.ops}\n${SSH_KEYS.deploy}`,
          key_options: 'from="10.77.0.0/24"',
        },
      },
      { authorized_key: { user: 'cf-keys', key: SSH_KEYS.old, state: 'absent' } },
    ],
    probe: `cd /home/cf-keys/.ssh && stat -c '%a %U' . authorized_keys && cat authorized_keys`,
    applied: [
      '0|700 cf-keys',
      '600 cf-keys',
      '# by hand',
      `from="10.77.0.0/24" ${SSH_KEYS.ops}`,
      `from="10.77.0.0/24" ${SSH_KEYS.deploy}\n`,
    ].join('\n'),
    cleanup: AUTHORIZED_KEY_CLEANUP,
  },
  {
    module: 'unarchive',
    setup: `mkdir -p ${D}/unpacked ${D}/unzipped ${D}/z/sub && cd ${D}/z && echo a > a.txt && echo b > sub/b.txt && python3 -m zipfile -c ../z.zip a.txt sub`,
    tasks: [
      {
        unarchive: {
          src: localArchive(),
          dest: `${D}/unpacked`,
          extra_opts: ['--strip-components=1'],
          owner: 'nobody',
          mode: 'u=rwX,g=rX,o=',
        },
      },
      { unarchive: { src: `${D}/z.zip`, remote_src: true, dest: `${D}/unzipped` } },
    ],
    probe: `find ${D}/unpacked ${D}/unzipped -printf '%P %y %m %u %l\n' | sort`,
  },
  {
    module: 'get_url',
    setup: `mkdir -p /var/www/html/cf-it ${D}/dl && echo hello > /var/www/html/cf-it/payload.txt && cd /var/www/html/cf-it && sha256sum payload.txt > SHA256SUMS && systemctl start nginx`,
    tasks: [
      {
        get_url: {
          url: 'http://127.0.0.1/cf-it/payload.txt',
          dest: `${D}/payload.txt`,
          mode: '0640',
          checksum: `sha256:${createHash('sha256').update('hello\n').digest('hex')}`,
        },
      },
      // Into a directory, named from the URL, checked against a checksum file.
      {
        get_url: {
          url: 'http://127.0.0.1/cf-it/payload.txt',
          dest: `${D}/dl`,
          checksum: 'sha256:http://127.0.0.1/cf-it/SHA256SUMS',
        },
      },
    ],
    probe: `cat ${D}/payload.txt; stat -c %a ${D}/payload.txt; ls -A ${D}/dl`,
    cleanup: 'rm -rf /var/www/html/cf-it',
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

  // Every case in one play (each task named after its case), run four times: one play per case
  // would cost four workflows each, minutes in all. A failure is kept to its task (ignore_errors),
  // so the other cases still run and each is judged on its own tasks and probe.
  it('every module: check mode changes nothing, apply changes, a second run and check mode then change nothing', async () => {
    for (const c of CASES) if (c.setup) expect(`${c.module}: ${onHost(c.setup)}`).toMatch(/^[^:]+: 0\|/);
    const named = CASES.map((c) =>
      c.tasks.map((t, i) => ({ ...t, name: `${c.module} #${i + 1}`, ignore_errors: true })),
    );
    const plays = [{ hosts: HOST, vars: { port: 8080 }, tasks: named.flat() }];
    const probeAll = () => CASES.map((c) => `${c.module}: ${onHost(c.probe)}`);
    /** Each case's task results in one run: `module: status (failed: msg)`. */
    const statuses = (r: PlayResult, c: Case) =>
      c.tasks.map((_, i) => {
        const h = r.tasks.find((t) => t.task === `${c.module} #${i + 1}`)?.hosts[0];
        return h?.result?.failed ? `failed: ${h.result.msg}` : (h?.status ?? 'missing');
      });
    const before = probeAll();
    await withWorker(settings, async (client) => {
      const checked = await runPlaybook(client, settings, plays, { check: true });
      for (const c of CASES) {
        const s = statuses(checked, c);
        expect(`${c.module}: ${s.filter((x) => x.startsWith('failed')).join('; ')}`).toBe(`${c.module}: `);
        expect(`${c.module}: ${s.some((x) => x === 'changed' || x === 'skipped')}`).toBe(`${c.module}: true`);
      }
      expect(probeAll()).toEqual(before);

      const applied = await runPlaybook(client, settings, plays);
      const after = probeAll();
      for (const [i, c] of CASES.entries()) {
        expect(`${c.module}: ${statuses(applied, c).join(', ')}`).toBe(
          `${c.module}: ${c.tasks.map(() => 'changed').join(', ')}`,
        );
        expect(after[i]).not.toBe(before[i]);
        if (c.applied !== undefined) expect(after[i]).toBe(`${c.module}: ${c.applied}`);
      }

      const again = await runPlaybook(client, settings, plays);
      for (const c of CASES)
        expect(
          `${c.module}: ${statuses(again, c)
            .filter((x) => x !== 'ok' && x !== 'skipped')
            .join(', ')}`,
        ).toBe(`${c.module}: `);
      expect(probeAll()).toEqual(after);

      const checkedAgain = await runPlaybook(client, settings, plays, { check: true });
      for (const c of CASES)
        expect(
          `${c.module}: ${statuses(checkedAgain, c)
            .filter((x) => x !== 'ok')
            .join(', ')}`,
        ).toBe(`${c.module}: `);
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

  it('getent, slurp, find and tempfile register the fields ansible-core returns, in check mode too', async () => {
    const F = `${D}/found`;
    expect(
      onHost(
        `mkdir -p ${F}/sub && printf 'hello\\n' > ${F}/a.log && printf 'ERROR x\\n' > ${F}/sub/b.log && touch ${F}/c.txt ${F}/.h.log`,
      ),
    ).toMatch(/^0\|/);
    const made = 't.path is defined';
    const plays = [
      {
        hosts: HOST,
        tasks: [
          { getent: { database: 'passwd', key: 'root' } },
          {
            assert: {
              that: ["getent_passwd.root[4] == '/root'", "ansible_facts.getent_passwd.root[0] == 'x'"],
            },
          },
          { getent: { database: 'passwd', key: 'cf-nobody', fail_key: false }, register: 'missing' },
          { assert: { that: ["missing.ansible_facts.getent_passwd['cf-nobody'] is none"] } },
          { slurp: { src: `${F}/a.log` }, register: 's' },
          {
            assert: {
              that: ["s.content == 'aGVsbG8K'", "s.encoding == 'base64'", `s.source == '${F}/a.log'`],
            },
          },
          { find: { paths: F, patterns: '*.log', recurse: true }, register: 'f' },
          {
            assert: {
              that: [
                'f.matched == 2',
                'f.examined == 5',
                `f.files | map(attribute='path') | list == ['${F}/a.log', '${F}/sub/b.log']`,
                "f.files[0].pw_name == 'root' and f.files[0].isreg and f.files[0].size == 6",
              ],
            },
          },
          { find: { paths: F, recurse: true, contains: 'ERROR' }, register: 'g' },
          { assert: { that: [`g.files | map(attribute='path') | list == ['${F}/sub/b.log']`] } },
          { tempfile: { suffix: '.cf' }, register: 't' },
          { stat: { path: '{{ t.path }}' }, register: 'ts', when: made },
          {
            assert: { that: ["t.path is match('/tmp/ansible[.].*[.]cf$')", "ts.stat.mode == '0600'"] },
            when: made,
          },
          { file: { path: '{{ t.path }}', state: 'absent' }, when: made },
        ],
      },
    ];
    await withWorker(settings, async (client) => {
      const applied = await runPlaybook(client, settings, plays);
      expect(applied.recap[HOST]).toMatchObject({ failed: 0, skipped: 0, changed: 2 });
      // tempfile does not run in check mode (ansible-core skips it); the rest reads and asserts.
      const checked = await runPlaybook(client, settings, plays, { check: true });
      expect(checked.recap[HOST]).toMatchObject({ failed: 0, changed: 0, skipped: 4 });
    });
  });

  it('sysctl_set fails as ansible.posix does on a key the lab keeps read-only, writing no file', async () => {
    const running = Number(onHost('sysctl -n vm.swappiness').split('|')[1]);
    await withWorker(settings, async (client) => {
      const r = await runPlaybook(client, settings, [
        {
          hosts: HOST,
          tasks: [
            {
              sysctl: {
                name: 'vm.swappiness',
                value: running + 1,
                sysctl_set: true,
                reload: false,
                sysctl_file: `${D}/sysctl-ro.conf`,
              },
            },
          ],
        },
      ]);
      expect(r.recap[HOST].failed).toBe(1);
      expect(r.tasks[0].hosts[0].result?.msg).toMatch(/^setting vm.swappiness failed: .*permission denied/);
      expect(onHost(`ls ${D}/sysctl-ro.conf`)).toMatch(/^2\|/);
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

  it('uri sends JSON, a form and credentials from the host, judges status_code, writes dest once; skipped in check mode', async () => {
    const echo = 'http://127.0.0.1:8097';
    expect(onHost(echoServerStart(D, 8097))).toMatch(/^0\|/);
    try {
      await withWorker(settings, async (client) => {
        const plays = [
          {
            hosts: HOST,
            tasks: [
              {
                uri: {
                  url: `${echo}/api?x=1`,
                  method: 'post',
                  body: { a: 1 },
                  body_format: 'json',
                  status_code: 201,
                  headers: { 'X-Test': 'cf-it' },
                  return_content: true,
                },
                register: 'post',
              },
              {
                uri: {
                  url: `${echo}/form`,
                  method: 'PUT',
                  body: { x: 1, y: 'a b' },
                  body_format: 'form-urlencoded',
                  url_username: 'ops',
                  url_password: 'p w',
                  force_basic_auth: true,
                },
                register: 'form',
              },
              { uri: { url: `${echo}/missing`, status_code: [200, 404] }, register: 'wanted' },
              { uri: { url: `${echo}/missing` }, register: 'unwanted', ignore_errors: true },
              { uri: { url: `${echo}/file`, dest: `${D}/uri.json`, mode: '0600' } },
              {
                assert: {
                  that: [
                    'post.status == 201',
                    "post.json.method == 'POST' and post.json.path == '/api?x=1'",
                    `post.json.body == '{"a":1}'`,
                    "post.json.headers['Content-Type'] == 'application/json'",
                    "post.json.headers['X-Test'] == 'cf-it'",
                    "post.content_type == 'application/json' and post.content is defined",
                    "form.json.body == 'x=1&y=a+b' and form.content is not defined",
                    "form.json.headers.Authorization == 'Basic b3BzOnAgdw=='",
                    'wanted.status == 404 and not wanted.failed',
                    "unwanted.failed and 'Status code was 404 and not [200]' in unwanted.msg",
                  ],
                },
              },
            ],
          },
        ];
        const first = await runPlaybook(client, settings, plays);
        // Each failed task with its message; an assert's with the condition that broke.
        const failures = first.tasks.flatMap((t) =>
          t.hosts
            .filter((h) => h.status === 'failed')
            .map((h) => `${t.task}: ${h.result?.msg ?? h.reason} ${String(h.result?.data?.assertion ?? '')}`),
        );
        expect(failures).toEqual([]);
        expect(first.recap[HOST]).toMatchObject({ changed: 1, failed: 0 });
        expect(onHost(`stat -c %a ${D}/uri.json; grep -c '"path": "/file"' ${D}/uri.json`)).toBe(
          '0|600\n1\n',
        );
        const again = await runPlaybook(client, settings, plays);
        expect(again.recap[HOST]).toMatchObject({ changed: 0, failed: 0 });

        const checked = await runPlaybook(
          client,
          settings,
          [{ hosts: HOST, tasks: [{ uri: { url: `${echo}/file`, dest: `${D}/uri-check.json` } }] }],
          { check: true },
        );
        expect(checked.recap[HOST]).toMatchObject({ skipped: 1, changed: 0 });
        expect(onHost(`ls ${D}/uri-check.json`)).toMatch(/^2\|/);
      });
    } finally {
      onHost(echoServerStop(D));
    }
  });

  it('unarchive is skipped when creates exists, and fails on a file that is no archive', async () => {
    expect(onHost(`mkdir -p ${D}/un2 && echo not-an-archive > ${D}/plain.txt`)).toMatch(/^0\|/);
    await withWorker(settings, async (client) => {
      const r = await runPlaybook(client, settings, [
        {
          hosts: HOST,
          tasks: [
            { unarchive: { src: localArchive(), dest: `${D}/un2`, creates: '/etc/hostname' } },
            { unarchive: { src: `${D}/plain.txt`, remote_src: true, dest: `${D}/un2` }, ignore_errors: true },
          ],
        },
      ]);
      expect(r.tasks[0].hosts[0].result).toMatchObject({
        skipped: true,
        msg: 'skipped, since /etc/hostname exists',
      });
      expect(r.tasks[1].hosts[0].result?.msg).toMatch(/^Failed to find handler for/);
      expect(onHost(`ls -A ${D}/un2`)).toBe('0|');
    });
  });

  // Last: a reboot empties node1's /tmp (a tmpfs), where the cases above keep their files.
  it('wait_for_connection waits out a host that is down, and reboot waits for its new boot id (the test restarts the container, as a machine restarts)', async () => {
    const bootId = () => onHost('cat /proc/sys/kernel/random/boot_id');
    await withWorker(settings, async (client) => {
      const waits = [
        { wait_for_connection: { timeout: 120, sleep: 1, connect_timeout: 2 }, register: 'w' },
        { reboot: { reboot_timeout: 120, connect_timeout: 2, test_command: 'test -d /etc' }, register: 'r' },
      ];
      const before = bootId();
      const checked = await runPlaybook(client, settings, [{ hosts: HOST, tasks: waits }], { check: true });
      expect(checked.recap[HOST]).toMatchObject({ changed: 1, skipped: 1, failed: 0 });
      expect(bootId()).toBe(before);

      await stop([HOST]);
      // Down for 2 s before the lab starts it again, so the wait is seen.
      const lab = restartWhenDown(HOST, 2000);
      try {
        const played = await runPlaybook(client, settings, [
          {
            hosts: HOST,
            tasks: [
              waits[0],
              { command: 'cat /proc/sys/kernel/random/boot_id', register: 'b1' },
              waits[1],
              { command: 'cat /proc/sys/kernel/random/boot_id', register: 'b2' },
              { assert: { that: ['w.elapsed >= 1', 'r.rebooted and r.changed', 'b1.stdout != b2.stdout'] } },
            ],
          },
        ]);
        expect(played.recap[HOST]).toMatchObject({ failed: 0, unreachable: 0, changed: 3 });
        expect(lab.starts()).toBe(2);
      } finally {
        await lab.stop();
      }
      expect(bootId()).not.toBe(before);
    });
  });
});
