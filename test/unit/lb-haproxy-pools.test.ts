import { haproxyDriver } from '../../activities/lb/haproxy';
import type { LbMember } from '../../common/lb';
import { execResult, fakeLbHost, lbInput } from './lb-fake-host';

// A node in several HAProxy pools (seed 004: FTP, SFTP, passive data, HTTP): one driver for all,
// played out against a fake HAProxy that keeps each pool's servers, states and sessions.

const HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port';

interface Server {
  pool: string;
  name: string;
  addr: string;
  port: number;
  admin: number;
  sessions: number;
}

const BASE = ['ftp', 'sftp', 'pasv', 'http']
  .map((p) => `backend ${p}\n    default-server check inter 1s\n`)
  .join('\n');

function fakePools(servers: Server[]) {
  let file = BASE;
  const api: string[] = [];
  const ADMIN: Record<string, number> = { ready: 0, drain: 8, maint: 1 };
  const answer = (command: string): string => {
    const out: string[] = [];
    for (const c of command.split('; ')) {
      let m: RegExpExecArray | null;
      if ((m = /^show servers state (\S+)$/.exec(c))) {
        const rows = servers
          .filter((s) => s.pool === m![1])
          .map(
            (s, i) =>
              `1 ${s.pool} ${i + 1} ${s.name} ${s.addr} 2 ${s.admin} 1 1 1 15 3 2 6 0 0 0 - ${s.port}`,
          );
        out.push(`1\n${HEADER}\n${rows.join('\n')}\n`);
      } else if (c === 'show stat')
        out.push(
          `# pxname,svname,scur\n${servers.map((s) => `${s.pool},${s.name},${s.sessions}`).join('\n')}\n`,
        );
      else if ((m = /^set server (\S+)\/(\S+) state (\S+)$/.exec(c))) {
        const s = servers.find((x) => x.pool === m![1] && x.name === m![2]);
        if (!s) return 'No such server.\n';
        s.admin = ADMIN[m[3]];
      } else if ((m = /^add server (\S+)\/(\S+) ([0-9.]+)(?::(\d+))?/.exec(c))) {
        servers.push({ pool: m[1], name: m[2], addr: m[3], port: Number(m[4] ?? 0), admin: 1, sessions: 0 });
        out.push('New server registered.\n');
      } else if (!/^enable health /.test(c)) return 'Unknown command.\n';
    }
    return out.join('');
  };
  const host = fakeLbHost({
    path: '/etc/haproxy/haproxy.cfg',
    read: () => file,
    write: (text) => void (file = text),
    runPlain: async (command) => {
      const m = /^printf '%s\\n' '((?:[^']|'\\'')*)' \| socat/.exec(command);
      if (m) {
        api.push(m[1]);
        return execResult(0, answer(m[1]));
      }
      if (command.startsWith('haproxy -c')) return execResult(0, '');
      return execResult(127, '', `unexpected: ${command}`);
    },
  });
  return { host, api, servers, config: () => file };
}

const lb = lbInput({
  kind: 'haproxy',
  backend: 'ftp',
  haproxy: { backends: [{ name: 'sftp', port: 22 }, { name: 'pasv' }, { name: 'http', port: 80 }] },
});
const member = (name: string, addr: string): LbMember => ({ node: name, name, address: addr, port: 21 });
const inAll = (name: string, addr: string, admin = 0): Server[] =>
  [
    ['ftp', 21],
    ['sftp', 22],
    ['pasv', 0],
    ['http', 80],
  ].map(([pool, port]) => ({ pool: pool as string, name, addr, port: port as number, admin, sessions: 0 }));

describe('a node in several HAProxy pools', () => {
  it('counts as drained only when no pool has a session left on it', async () => {
    const fake = fakePools([...inAll('cftp1', '10.77.0.12'), ...inAll('cftp2', '10.77.0.13')]);
    fake.servers.find((s) => s.pool === 'pasv' && s.name === 'cftp1')!.sessions = 2;
    fake.servers.find((s) => s.pool === 'sftp' && s.name === 'cftp1')!.sessions = 1;
    const members = await haproxyDriver(fake.host, lb).members();
    expect(members.map((m) => [m.name, m.sessions, m.port])).toEqual([
      ['cftp1', 3, 21],
      ['cftp2', 0, 21],
    ]);
  });

  it('drains it in every pool, and reads it as far out as its most-out pool', async () => {
    const fake = fakePools([...inAll('cftp1', '10.77.0.12')]);
    const driver = haproxyDriver(fake.host, lb);
    expect(await driver.setState(member('cftp1', '10.77.0.12'), 'drain')).toBe(true);
    expect(fake.api.filter((c) => c.startsWith('set server'))).toEqual([
      'set server ftp/cftp1 state drain',
      'set server sftp/cftp1 state drain',
      'set server pasv/cftp1 state drain',
      'set server http/cftp1 state drain',
    ]);
    fake.servers.find((s) => s.pool === 'http')!.admin = 1; // someone put it in maintenance in one pool
    expect((await driver.members())[0].admin).toBe('disabled');
  });

  it('adds a node to every pool on the pool’s own port, none for the passive pool, each with the default-server checks', async () => {
    const fake = fakePools([]);
    expect(await haproxyDriver(fake.host, lb).addMember(member('cftp3', '10.77.0.14'), 'ready')).toBe(true);
    expect(fake.api.filter((c) => c.startsWith('add server'))).toEqual([
      'add server ftp/cftp3 10.77.0.14:21 check inter 1s',
      'add server sftp/cftp3 10.77.0.14:22 check inter 1s',
      'add server pasv/cftp3 10.77.0.14 check inter 1s',
      'add server http/cftp3 10.77.0.14:80 check inter 1s',
    ]);
    expect(fake.config()).toContain(
      'backend pasv\n    default-server check inter 1s\n    server cftp3 10.77.0.14 check inter 1s',
    );
  });

  it('is not up while a pool lacks it (a join cut short), so the join’s re-run adds it', async () => {
    const fake = fakePools(inAll('cftp3', '10.77.0.14').filter((s) => s.pool !== 'pasv'));
    const driver = haproxyDriver(fake.host, lb);
    expect((await driver.members())[0].up).toBe(false);
    expect(await driver.addMember(member('cftp3', '10.77.0.14'), 'ready')).toBe(true);
    expect(fake.api.filter((c) => c.startsWith('add server'))).toEqual([
      'add server pasv/cftp3 10.77.0.14 check inter 1s',
    ]);
    expect((await driver.members())[0].up).toBe(true);
  });
});

describe('further pools in the spec', () => {
  it('are for HAProxy only, and each is named once', () => {
    expect(() =>
      lbInput({
        kind: 'nginx',
        backend: 'app',
        config: '/etc/nginx/app.conf',
        haproxy: { backends: [{ name: 'x' }] },
      }),
    ).toThrow(/only for kind haproxy/);
    expect(() =>
      lbInput({ kind: 'haproxy', backend: 'ftp', haproxy: { backends: [{ name: 'ftp' }] } }),
    ).toThrow(/ftp is listed twice/);
  });
});
