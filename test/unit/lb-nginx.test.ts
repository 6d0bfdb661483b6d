import {
  configWithMember,
  configWithState,
  configWithoutMember,
  nginxDriver,
  upstreamServers,
} from '../../activities/lb/nginx';
import { execResult, fakeLbHost, lbInput } from './lb-fake-host';
import type { ExecResult } from '../../activities/ssh/exec';
import type { LbMember } from '../../common/lb';

const CONF = '/etc/nginx/conf.d/cfapp.conf';
// Braces of other blocks before and after the upstreams, and the same member in a second upstream.
/** The upstream the tests drive; also what proxy_pass names. */
const UPSTREAM = 'app';

const CONFIG = `map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
}

upstream app {
    server 10.77.0.12:8080 weight=2 max_fails=3 fail_timeout=10s;
    server 10.77.0.13:8080 down;
    server app3:8080;
    server 10.77.0.16;
}

upstream app_admin {
    server 10.77.0.12:8080;
}

server {
    listen 80;
    location / {
        if ($http_x_debug) { return 418; }
        proxy_pass http://${UPSTREAM};
    }
}
`;

const member = (node: string, address: string, port = 8080): LbMember => ({
  node,
  name: node,
  address,
  port,
});
const app1 = member('app1', '10.77.0.12');
const app2 = member('app2', '10.77.0.13');
const app3 = member('app3', '10.77.0.14');

describe('reading an upstream', () => {
  it('lists the servers of the named upstream with their port and parameters, 80 when none is given', () => {
    expect(upstreamServers(CONFIG, 'app')).toEqual([
      {
        line: 6,
        indent: '    ',
        address: '10.77.0.12',
        port: 8080,
        params: ['weight=2', 'max_fails=3', 'fail_timeout=10s'],
      },
      { line: 7, indent: '    ', address: '10.77.0.13', port: 8080, params: ['down'] },
      { line: 8, indent: '    ', address: 'app3', port: 8080, params: [] },
      { line: 9, indent: '    ', address: '10.77.0.16', port: 80, params: [] },
    ]);
  });

  it('tells an upstream apart from one whose name it starts', () => {
    expect(upstreamServers(CONFIG, 'app_admin')?.map((s) => [s.line, s.address, s.port])).toEqual([
      [13, '10.77.0.12', 8080],
    ]);
    expect(upstreamServers(CONFIG, 'ap')).toBeUndefined();
  });

  it('tells an absent upstream from an empty one', () => {
    expect(upstreamServers(CONFIG, 'api')).toBeUndefined();
    expect(upstreamServers('upstream api {\n    zone api 64k;\n}\n', 'api')).toEqual([]);
  });
});

describe('upstream edits', () => {
  it('marks a member down in its upstream only, leaving the same member in another upstream alone', () => {
    expect(configWithState(CONFIG, 'app', app1, 'drain')).toBe(
      CONFIG.replace(
        'server 10.77.0.12:8080 weight=2 max_fails=3 fail_timeout=10s;',
        'server 10.77.0.12:8080 weight=2 max_fails=3 fail_timeout=10s down;',
      ),
    );
    expect(configWithState(CONFIG, 'app', app1, 'disabled')).toBe(
      configWithState(CONFIG, 'app', app1, 'drain'),
    );
  });

  it('marking down twice writes down once', () => {
    const once = configWithState(CONFIG, 'app', app1, 'disabled');
    expect(configWithState(once, 'app', app1, 'disabled')).toBe(once);
  });

  it('takes down away for ready, and leaves a ready member as it is', () => {
    expect(configWithState(CONFIG, 'app', app2, 'ready')).toBe(
      CONFIG.replace('server 10.77.0.13:8080 down;', 'server 10.77.0.13:8080;'),
    );
    expect(configWithState(CONFIG, 'app', app1, 'ready')).toBe(CONFIG);
  });

  it('finds a member written by its node name', () => {
    expect(configWithState(CONFIG, 'app', app3, 'disabled')).toBe(
      CONFIG.replace('server app3:8080;', 'server app3:8080 down;'),
    );
  });

  it('does not take a server on another port for the member', () => {
    expect(configWithState(CONFIG, 'app', member('app1', '10.77.0.12', 8081), 'disabled')).toBe(CONFIG);
    expect(configWithState(CONFIG, 'app', member('app6', '10.77.0.16', 8080), 'disabled')).toBe(CONFIG);
    expect(configWithState(CONFIG, 'app', member('app6', '10.77.0.16', 80), 'disabled')).toBe(
      CONFIG.replace('server 10.77.0.16;', 'server 10.77.0.16:80 down;'),
    );
  });

  it("adds a member after the upstream's last server, down unless it joins ready", () => {
    const app4 = member('app4', '10.77.0.15');
    expect(configWithMember(CONFIG, 'app', app4, 'disabled')).toBe(
      CONFIG.replace(
        '    server 10.77.0.16;\n',
        '    server 10.77.0.16;\n    server 10.77.0.15:8080 down;\n',
      ),
    );
    expect(configWithMember(CONFIG, 'app', app4, 'ready')).toBe(
      CONFIG.replace('    server 10.77.0.16;\n', '    server 10.77.0.16;\n    server 10.77.0.15:8080;\n'),
    );
  });

  it('adds the first member of an empty upstream before its closing brace', () => {
    expect(configWithMember('upstream api {\n}\n', 'api', member('app4', '10.77.0.15'), 'ready')).toBe(
      'upstream api {\n    server 10.77.0.15:8080;\n}\n',
    );
    expect(configWithMember(CONFIG, 'api', member('app4', '10.77.0.15'), 'ready')).toBe(CONFIG);
  });

  it('removes a member from its upstream only', () => {
    expect(configWithoutMember(CONFIG, 'app', app1)).toBe(
      CONFIG.replace('    server 10.77.0.12:8080 weight=2 max_fails=3 fail_timeout=10s;\n', ''),
    );
    expect(configWithoutMember(CONFIG, 'app', app3)).toBe(CONFIG.replace('    server app3:8080;\n', ''));
    expect(configWithoutMember(CONFIG, 'app', member('app9', '10.77.0.19'))).toBe(CONFIG);
  });
});

/** An LB host with nginx reading CONFIG; `configTest` is the exit code of `nginx -t -q`. */
function fakeNginx(options: { configTest?: number } = {}) {
  let file = CONFIG;
  const commands: string[] = [];
  const writes: string[] = [];
  const result = execResult;
  const runPlain = async (command: string): Promise<ExecResult> => {
    commands.push(command);
    if (command === 'nginx -t -q')
      return options.configTest
        ? result(options.configTest, '', `nginx: [emerg] invalid parameter "dwn" in ${CONF}:8\n`)
        : result(0, '');
    if (command === 'nginx -s reload') return result(0, '');
    return result(127, '', `sh: unexpected command: ${command}\n`);
  };
  const host = fakeLbHost({
    path: CONF,
    read: () => file,
    write: (text) => void ((file = text), writes.push(text)),
    runPlain,
  });
  return { host, commands, writes, config: () => file };
}

const lb = lbInput({ kind: 'nginx', backend: 'app', config: CONF });

describe('nginx driver', () => {
  it('reports down as disabled and cannot count sessions', async () => {
    const fake = fakeNginx();
    const members = await nginxDriver(fake.host, lb).members();
    expect(members).toEqual([
      { name: '10.77.0.12:8080', address: '10.77.0.12', port: 8080, admin: 'ready' },
      { name: '10.77.0.13:8080', address: '10.77.0.13', port: 8080, admin: 'disabled' },
      { name: 'app3:8080', address: 'app3', port: 8080, admin: 'ready' },
      { name: '10.77.0.16:80', address: '10.77.0.16', port: 80, admin: 'ready' },
    ]);
    expect(members.map((m) => m.sessions)).toEqual([undefined, undefined, undefined, undefined]);
    expect(fake.commands).toEqual([]);
  });

  it('tests the edited file with nginx -t before it reloads', async () => {
    const fake = fakeNginx();
    expect(await nginxDriver(fake.host, lb).setState(app1, 'drain')).toBe(true);
    expect(fake.commands).toEqual(['nginx -t -q', 'nginx -s reload']);
    expect(fake.writes).toEqual([configWithState(CONFIG, 'app', app1, 'drain')]);
  });

  it('puts the previous file back and does not reload when nginx -t fails', async () => {
    const fake = fakeNginx({ configTest: 1 });
    await expect(nginxDriver(fake.host, lb).setState(app1, 'disabled')).rejects.toMatchObject({
      type: 'LbConfigInvalid',
      nonRetryable: true,
      message: expect.stringContaining('invalid parameter "dwn"'),
    });
    expect(fake.writes).toEqual([configWithState(CONFIG, 'app', app1, 'disabled'), CONFIG]);
    expect(fake.config()).toBe(CONFIG);
    expect(fake.commands).toEqual(['nginx -t -q']);
  });

  it('neither writes nor reloads for a member already in the wanted state', async () => {
    const fake = fakeNginx();
    expect(await nginxDriver(fake.host, lb).setState(app2, 'disabled')).toBe(false);
    expect(await nginxDriver(fake.host, lb).setState(app1, 'ready')).toBe(false);
    expect(fake.commands).toEqual([]);
    expect(fake.writes).toEqual([]);
  });

  it('refuses a member the upstream does not have', async () => {
    const fake = fakeNginx();
    await expect(
      nginxDriver(fake.host, lb).setState(member('app9', '10.77.0.19'), 'drain'),
    ).rejects.toMatchObject({ type: 'LbMemberMissing', nonRetryable: true });
    expect(fake.commands).toEqual([]);
  });

  it('adds a joining member once, down, and removes it again', async () => {
    const fake = fakeNginx();
    const driver = nginxDriver(fake.host, lb);
    const app4 = member('app4', '10.77.0.15');
    expect(await driver.addMember(app4, 'disabled')).toBe(true);
    expect(await driver.addMember(app4, 'disabled')).toBe(false);
    expect(fake.config()).toContain('    server 10.77.0.16;\n    server 10.77.0.15:8080 down;\n}');
    expect(await driver.removeMember(app4)).toBe(true);
    expect(fake.config()).toBe(CONFIG);
    expect(fake.commands).toEqual(['nginx -t -q', 'nginx -s reload', 'nginx -t -q', 'nginx -s reload']);
  });
});

describe("seed 000's nginx upstream (examples/powerfolder)", () => {
  const GUIDE = `upstream pfcluster {
    ip_hash;
    server 10.77.0.16:8080;
    server 10.77.0.17:8080 down;
    keepalive 100;
}
`;

  it('adds a node after the last server, keeping ip_hash and keepalive where they are', () => {
    expect(configWithMember(GUIDE, 'pfcluster', member('pfnode3', '10.77.0.18'), 'disabled')).toBe(
      GUIDE.replace('8080 down;\n', '8080 down;\n    server 10.77.0.18:8080 down;\n'),
    );
  });

  it('takes a node out and back by its down flag alone', () => {
    const pfnode1 = member('pfnode1', '10.77.0.16');
    const out = configWithState(GUIDE, 'pfcluster', pfnode1, 'disabled');
    expect(out).toBe(GUIDE.replace('10.77.0.16:8080;', '10.77.0.16:8080 down;'));
    expect(configWithState(out, 'pfcluster', pfnode1, 'ready')).toBe(GUIDE);
  });
});
