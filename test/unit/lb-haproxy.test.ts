import { readFileSync } from 'fs';
import path from 'path';
import { ApplicationFailure } from '@temporalio/common';
import {
  configWithServer,
  configWithState,
  configWithoutServer,
  haproxyDriver,
  optionsLike,
  parseServersState,
  parseStatSessions,
} from '../../activities/lb/haproxy';
import { execResult, fakeLbHost, lbInput } from './lb-fake-host';
import type { ExecResult } from '../../activities/ssh/exec';
import type { LbMember } from '../../common/lb';

// Runtime API answers recorded from HAProxy 2.6: app1 is drained (admin 8), app2 is in
// maintenance and down (admin 1, op 0), app3 is ready and up.
const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/lb', name), 'utf8');
const serversState = fixture('haproxy-show-servers-state.txt');
const showStat = fixture('haproxy-show-stat.csv');

const CONFIG = `global
    stats socket /run/haproxy/admin.sock mode 660 level admin

defaults
    mode http

frontend web
    bind :80
    default_backend app

backend app
    balance roundrobin
    cookie SERVERID insert indirect nocache
    option httpchk GET /check.txt
    server app1 10.77.0.12:8080 cookie app1 check
    server app2 10.77.0.13:8080 cookie app2 check disabled
    server app3 10.77.0.14:8080 cookie app3 check
`;

const member = (name: string, address: string, port = 8080): LbMember => ({
  node: name,
  name,
  address,
  port,
});
const app3 = member('app3', '10.77.0.14');

describe('reading show servers state', () => {
  it('reads drain, maintenance and health from the recorded HAProxy 2.6 answer', () => {
    expect([...parseServersState(serversState, 'app').values()]).toEqual([
      { name: 'app1', address: '10.77.0.12', port: 8080, admin: 'drain', up: true },
      { name: 'app2', address: '10.77.0.13', port: 8080, admin: 'disabled', up: false },
      { name: 'app3', address: '10.77.0.14', port: 8080, admin: 'ready', up: true },
    ]);
  });

  it('keys the servers by name and keeps to the asked backend', () => {
    expect([...parseServersState(serversState, 'app').keys()]).toEqual(['app1', 'app2', 'app3']);
    expect(parseServersState(serversState, 'api').size).toBe(0);
  });

  it('finds the columns by the header, not by position', () => {
    const reordered = [
      '1',
      '# srv_name be_name srv_admin_state srv_op_state srv_addr srv_port',
      'web1 api 16 2 10.0.0.5 9000',
      'web2 api 32 0 10.0.0.6 9000',
      '',
    ].join('\n');
    expect([...parseServersState(reordered, 'api').values()]).toEqual([
      { name: 'web1', address: '10.0.0.5', port: 9000, admin: 'drain', up: true },
      { name: 'web2', address: '10.0.0.6', port: 9000, admin: 'disabled', up: false },
    ]);
  });
});

describe('reading show stat', () => {
  it('counts current sessions per server of the backend, without the FRONTEND and BACKEND rows', () => {
    expect(Object.fromEntries(parseStatSessions(showStat, 'app'))).toEqual({ app1: 0, app2: 0, app3: 0 });
    expect(parseStatSessions(showStat, 'web').size).toBe(0);
  });

  it('takes the scur column', () => {
    const csv = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot',
      'app,app1,0,0,3,7,,120',
      'app,app2,1,1,,2,,9',
      'app,BACKEND,0,0,3,7,,129',
      'other,app1,0,0,11,11,,11',
    ].join('\n');
    expect(Object.fromEntries(parseStatSessions(csv, 'app'))).toEqual({ app1: 3, app2: 0 });
  });
});

describe('haproxy.cfg: server state', () => {
  const twoBackends = `backend app
    server app1 10.77.0.12:8080 cookie app1 check
    server app10 10.77.0.22:8080 cookie app10 check

backend admin
    server app1 10.77.0.12:9090 check
`;

  it('marks one server disabled inside the named backend only', () => {
    expect(configWithState(twoBackends, 'app', 'app1', 'disabled')).toBe(`backend app
    server app1 10.77.0.12:8080 cookie app1 check disabled
    server app10 10.77.0.22:8080 cookie app10 check

backend admin
    server app1 10.77.0.12:9090 check
`);
    expect(configWithState(twoBackends, 'admin', 'app1', 'disabled')).toBe(`backend app
    server app1 10.77.0.12:8080 cookie app1 check
    server app10 10.77.0.22:8080 cookie app10 check

backend admin
    server app1 10.77.0.12:9090 check disabled
`);
  });

  it('disabling twice writes disabled once', () => {
    const once = configWithState(twoBackends, 'app', 'app1', 'disabled');
    expect(configWithState(once, 'app', 'app1', 'disabled')).toBe(once);
  });

  it('takes disabled away for ready and for drain, leaving the other options in place', () => {
    const config = 'backend app\n    server app2 10.77.0.13:8080 cookie app2 disabled check inter 2s\n';
    const ready = 'backend app\n    server app2 10.77.0.13:8080 cookie app2 check inter 2s\n';
    expect(configWithState(config, 'app', 'app2', 'ready')).toBe(ready);
    expect(configWithState(config, 'app', 'app2', 'drain')).toBe(ready);
    expect(configWithState(ready, 'app', 'app2', 'ready')).toBe(ready);
  });

  it('edits a server of a listen section', () => {
    const listen = 'listen app\n    bind :80\n    server app1 10.77.0.12:8080 check\n';
    expect(configWithState(listen, 'app', 'app1', 'disabled')).toBe(
      'listen app\n    bind :80\n    server app1 10.77.0.12:8080 check disabled\n',
    );
  });

  it('leaves the file as it is when the backend or server is not there', () => {
    expect(configWithState(twoBackends, 'api', 'app1', 'disabled')).toBe(twoBackends);
    expect(configWithState(twoBackends, 'app', 'app2', 'disabled')).toBe(twoBackends);
  });

  it('puts disabled before a trailing comment, where HAProxy still reads it', () => {
    const commented = 'backend app\n    server app1 10.77.0.12:8080 check # primary\n';
    expect(configWithState(commented, 'app', 'app1', 'disabled')).toBe(
      'backend app\n    server app1 10.77.0.12:8080 check disabled # primary\n',
    );
  });
});

describe('haproxy.cfg: adding and removing servers', () => {
  it("gives a new server the first server's options with its own cookie, never disabled", () => {
    const config =
      'backend app\n    server app2 10.77.0.13:8080 cookie app2 disabled check inter 1s\n    server app3 10.77.0.14:8080 check\n';
    expect(optionsLike(config, 'app', 'app4')).toBe('cookie app4 check inter 1s');
    expect(optionsLike('backend app\n    server app1 10.77.0.12:8080 check disabled\n', 'app', 'app4')).toBe(
      'check',
    );
    expect(optionsLike('backend app\n    balance roundrobin\n', 'app', 'app4')).toBe('');
  });

  it("gives an empty pool's first server its own cookie when the backend sticks by cookie", () => {
    const pydio = 'backend pydio\n    cookie Pydio prefix nocache\n    default-server check inter 1s\n';
    expect(optionsLike(pydio, 'pydio', 'pynode1')).toBe('check inter 1s cookie pynode1');
    expect(optionsLike('backend pydio\n    default-server check\n', 'pydio', 'pynode1')).toBe('check');
  });

  it("writes the backend's default-server options out, which HAProxy 2.6 leaves off a server added at runtime", () => {
    const ftp = 'backend ftp\n    default-server check port 21 inter 1s fall 2 rise 1\n';
    expect(optionsLike(ftp, 'ftp', 'cftp1')).toBe('check port 21 inter 1s fall 2 rise 1');
    // A peer's own option wins over the default's.
    const withPeer = `${ftp}    server cftp1 10.77.0.12 inter 3s # the primary\n`;
    expect(optionsLike(withPeer, 'ftp', 'cftp2')).toBe('check port 21 fall 2 rise 1 inter 3s');
  });

  it('adds the server after the last non-blank line of the backend, indented like its peers', () => {
    const config = `backend app
  balance roundrobin
  server app1 10.77.0.12:8080 check

  # the admin pool
  http-request deny if { path_beg /admin }


backend admin
  server app1 10.77.0.12:9090 check
`;
    expect(configWithServer(config, 'app', member('app4', '10.77.0.15'), 'cookie app4 check')).toBe(
      `backend app
  balance roundrobin
  server app1 10.77.0.12:8080 check

  # the admin pool
  http-request deny if { path_beg /admin }
  server app4 10.77.0.15:8080 cookie app4 check


backend admin
  server app1 10.77.0.12:9090 check
`,
    );
  });

  it('adds to the last section of the file before its final newline, with four spaces when the pool is empty', () => {
    expect(
      configWithServer('backend app\n    balance first\n', 'app', member('app4', '10.77.0.15', 80), ''),
    ).toBe('backend app\n    balance first\n    server app4 10.77.0.15:80\n');
  });

  it('removes only the named server of the named backend', () => {
    const config = `backend app
    server app1 10.77.0.12:8080 check
    server app10 10.77.0.22:8080 check

backend admin
    server app1 10.77.0.12:9090 check
`;
    expect(configWithoutServer(config, 'app', 'app1')).toBe(`backend app
    server app10 10.77.0.22:8080 check

backend admin
    server app1 10.77.0.12:9090 check
`);
    expect(configWithoutServer(config, 'app', 'app7')).toBe(config);
  });
});

/**
 * An LB host with an HAProxy whose runtime state starts as the recorded answers and changes as
 * the runtime API would change it. Records every command, every API command and every write.
 */
function fakeHaproxy(
  options: { config?: string; configTest?: number; answers?: Record<string, string> } = {},
) {
  let file = options.config ?? CONFIG;
  const header = serversState.split('\n')[1];
  const rows = serversState
    .split('\n')
    .slice(2)
    .filter((l) => l.trim())
    .map((l) => l.split(' '));
  const commands: string[] = [];
  const api: string[] = [];
  const writes: string[] = [];
  const result = execResult;
  const ADMIN: Record<string, string> = { ready: '0', drain: '8', maint: '1' };

  const runtime = (command: string): string => {
    if (options.answers?.[command] !== undefined) return options.answers[command];
    if (command === 'show servers state app; show stat')
      return `1\n${header}\n${rows.map((r) => r.join(' ')).join('\n')}\n\n${showStat}`;
    let m = /^set server app\/(\S+) state (ready|drain|maint)$/.exec(command);
    const row = (name: string) => rows.find((r) => r[3] === name);
    if (m) {
      const r = row(m[1]);
      if (!r) return 'No such server.\n';
      r[6] = ADMIN[m[2]];
      return '';
    }
    m = /^add server app\/(\S+) ([0-9.]+):(\d+)/.exec(command);
    if (m) {
      if (row(m[1])) return 'Already exists a server with the same name in backend.\n';
      // A dynamic server starts in maintenance (admin 1) and stopped (op 0).
      rows.push(
        `3 app ${rows.length + 1} ${m[1]} ${m[2]} 0 1 1 1 0 1 0 0 0 0 0 0 - ${m[3]} - 0 0 - - 0`.split(' '),
      );
      return 'New server registered.\n';
    }
    if ((m = /^enable health app\/(\S+)$/.exec(command))) return row(m[1]) ? '' : 'No such server.\n';
    if ((m = /^shutdown sessions server app\/(\S+)$/.exec(command)))
      return row(m[1]) ? '' : 'No such server.\n';
    if ((m = /^del server app\/(\S+)$/.exec(command))) {
      const r = row(m[1]);
      if (!r) return 'No such server.\n';
      if (r[6] !== '1') return 'Only servers in maintenance mode can be deleted.\n';
      rows.splice(rows.indexOf(r), 1);
      return 'Server deleted.\n';
    }
    return 'Unknown command.\n';
  };

  const runPlain = async (command: string): Promise<ExecResult> => {
    commands.push(command);
    const m =
      /^printf '%s\\n' ('(?:[^']|'\\'')*'|\S+) \| socat stdio UNIX-CONNECT:\/run\/haproxy\/admin\.sock$/.exec(
        command,
      );
    if (m) {
      const text = m[1].startsWith("'") ? m[1].slice(1, -1).replace(/'\\''/g, "'") : m[1];
      api.push(text);
      return result(0, runtime(text));
    }
    if (command === 'haproxy -c -q -f /etc/haproxy/haproxy.cfg')
      return options.configTest
        ? result(options.configTest, '', '[ALERT] (1) : config : parsing [/etc/haproxy/haproxy.cfg:17]\n')
        : result(0, '');
    return result(127, '', `sh: unexpected command: ${command}\n`);
  };

  const host = fakeLbHost({
    path: '/etc/haproxy/haproxy.cfg',
    read: () => file,
    write: (text) => void ((file = text), writes.push(text)),
    runPlain,
  });
  return { host, commands, api, writes, config: () => file };
}

const lb = lbInput({ kind: 'haproxy', backend: 'app', config: '/etc/haproxy/haproxy.cfg' });

const SHOW = `printf '%s\\n' 'show servers state app; show stat' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`;

describe('HAProxy driver', () => {
  it('lists the members with their sessions in one round trip to the admin socket', async () => {
    const fake = fakeHaproxy();
    expect(await haproxyDriver(fake.host, lb).members()).toEqual([
      { name: 'app1', address: '10.77.0.12', port: 8080, admin: 'drain', up: true, sessions: 0 },
      { name: 'app2', address: '10.77.0.13', port: 8080, admin: 'disabled', up: false, sessions: 0 },
      { name: 'app3', address: '10.77.0.14', port: 8080, admin: 'ready', up: true, sessions: 0 },
    ]);
    expect(fake.commands).toEqual([SHOW]);
  });

  it('drains through the runtime API only, leaving haproxy.cfg alone', async () => {
    const fake = fakeHaproxy();
    const driver = haproxyDriver(fake.host, lb);
    expect(await driver.setState(app3, 'drain')).toBe(true);
    expect(fake.commands).toEqual([
      SHOW,
      `printf '%s\\n' 'set server app/app3 state drain' | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock`,
    ]);
    expect(fake.writes).toEqual([]);
    expect((await driver.members())[2]).toEqual(expect.objectContaining({ name: 'app3', admin: 'drain' }));
  });

  it('keeps a node in maintenance across a reload: disabled in haproxy.cfg, tested, then maint at runtime', async () => {
    const fake = fakeHaproxy();
    expect(await haproxyDriver(fake.host, lb).setState(app3, 'disabled')).toBe(true);
    expect(fake.writes).toEqual([
      CONFIG.replace(
        'server app3 10.77.0.14:8080 cookie app3 check',
        'server app3 10.77.0.14:8080 cookie app3 check disabled',
      ),
    ]);
    expect(fake.commands.slice(1, 2)).toEqual(['haproxy -c -q -f /etc/haproxy/haproxy.cfg']);
    expect(fake.api).toEqual(['show servers state app; show stat', 'set server app/app3 state maint']);
  });

  it('brings a node out of maintenance and takes disabled out of haproxy.cfg', async () => {
    const fake = fakeHaproxy();
    expect(await haproxyDriver(fake.host, lb).setState(member('app2', '10.77.0.13'), 'ready')).toBe(true);
    expect(fake.config()).toBe(
      CONFIG.replace(
        'server app2 10.77.0.13:8080 cookie app2 check disabled',
        'server app2 10.77.0.13:8080 cookie app2 check',
      ),
    );
    expect(fake.api).toEqual(['show servers state app; show stat', 'set server app/app2 state ready']);
  });

  it('puts the previous haproxy.cfg back and changes nothing at runtime when the config test fails', async () => {
    const fake = fakeHaproxy({ configTest: 1 });
    const error = await haproxyDriver(fake.host, lb)
      .setState(app3, 'disabled')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'LbConfigInvalid', nonRetryable: true });
    expect((error as Error).message).toContain('parsing [/etc/haproxy/haproxy.cfg:17]');
    expect(fake.writes).toHaveLength(2);
    expect(fake.writes[0]).toContain('cookie app3 check disabled');
    expect(fake.writes[1]).toBe(CONFIG);
    expect(fake.config()).toBe(CONFIG);
    expect(fake.api).toEqual(['show servers state app; show stat']);
  });

  it('changes nothing for a member already in the wanted state', async () => {
    const fake = fakeHaproxy();
    const driver = haproxyDriver(fake.host, lb);
    expect(await driver.setState(member('app1', '10.77.0.12'), 'drain')).toBe(false);
    expect(await driver.setState(member('app2', '10.77.0.13'), 'disabled')).toBe(false);
    expect(fake.api.filter((c) => c.startsWith('set server'))).toEqual([]);
    expect(fake.writes).toEqual([]);
  });

  it('refuses a server the backend does not have', async () => {
    const fake = fakeHaproxy();
    await expect(
      haproxyDriver(fake.host, lb).setState(member('app9', '10.77.0.19'), 'drain'),
    ).rejects.toMatchObject({ type: 'LbMemberMissing', nonRetryable: true });
    expect(fake.api).toEqual(['show servers state app; show stat']);
  });

  it('fails as refused when HAProxy answers a change with an error text', async () => {
    const fake = fakeHaproxy({ answers: { 'set server app/app3 state drain': 'No such server.\n' } });
    await expect(haproxyDriver(fake.host, lb).setState(app3, 'drain')).rejects.toMatchObject({
      type: 'LbRefused',
      nonRetryable: true,
      message: expect.stringContaining('No such server.'),
    });
  });

  it('leaves a member that is already there as it is, so a re-run join changes nothing', async () => {
    const fake = fakeHaproxy();
    expect(await haproxyDriver(fake.host, lb).addMember(app3, 'disabled')).toBe(false);
    expect(fake.commands).toEqual([SHOW]);
    expect(fake.writes).toEqual([]);
  });

  it('adds a joining node in maintenance, configured like its peers, with health checks on', async () => {
    const fake = fakeHaproxy();
    const driver = haproxyDriver(fake.host, lb);
    expect(await driver.addMember(member('app4', '10.77.0.15'), 'disabled')).toBe(true);
    expect(fake.config()).toBe(
      CONFIG.replace(
        '    server app3 10.77.0.14:8080 cookie app3 check\n',
        '    server app3 10.77.0.14:8080 cookie app3 check\n    server app4 10.77.0.15:8080 cookie app4 check disabled\n',
      ),
    );
    expect(fake.api).toEqual([
      'show servers state app; show stat',
      'add server app/app4 10.77.0.15:8080 cookie app4 check',
      'enable health app/app4',
    ]);
    expect((await driver.members())[3]).toEqual(
      expect.objectContaining({ name: 'app4', address: '10.77.0.15', admin: 'disabled' }),
    );
  });

  it('removes a member: maintenance, its sessions shut, deleted, and its line gone from haproxy.cfg', async () => {
    const fake = fakeHaproxy();
    const driver = haproxyDriver(fake.host, lb);
    expect(await driver.removeMember(app3)).toBe(true);
    expect(fake.api).toEqual([
      'show servers state app; show stat',
      'set server app/app3 state maint',
      'shutdown sessions server app/app3',
      'del server app/app3',
    ]);
    expect(fake.config()).toBe(CONFIG.replace('    server app3 10.77.0.14:8080 cookie app3 check\n', ''));
    expect(fake.commands).toContain('haproxy -c -q -f /etc/haproxy/haproxy.cfg');
    expect((await driver.members()).map((m) => m.name)).toEqual(['app1', 'app2']);
  });
});
