import { readFileSync } from 'fs';
import path from 'path';
import {
  apacheDriver,
  configWithMember,
  configWithState,
  configWithoutMember,
  managerWorkerName,
  parseBalancerManager,
} from '../../activities/lb/apache';
import { execResult, fakeLbHost, lbInput } from './lb-fake-host';
import type { ExecResult } from '../../activities/ssh/exec';
import type { AdminState, LbMember } from '../../common/lb';

// balancer-manager as Apache 2.4.68 serves it: app1 drained, app2 disabled, app3 in service.
const page = readFileSync(path.join(__dirname, '../fixtures/lb/apache-balancer-manager.html'), 'utf8');
const NONCE = 'a9a536f9-58d2-af25-9a76-6e2f81b28662';
const MANAGER = 'http://127.0.0.1/balancer-manager';
const CONF = '/etc/apache2/conf-available/cfapp-balancer.conf';

const member = (name: string, address: string, port = 8080): LbMember => ({
  node: name,
  name,
  address,
  port,
});
const app1 = member('app1', '10.77.0.12');
const app3 = member('app3', '10.77.0.14');

const CONFIG = `<Proxy "balancer://app">
    BalancerMember "http://10.77.0.12:8080" route=app1 status=+N
    BalancerMember "http://10.77.0.13:8080" route=app2 status=+D
    BalancerMember "http://10.77.0.14:8080" route=app3
    ProxySet stickysession=ROUTEID
</Proxy>
ProxyPass "/" "balancer://app/"
`;

describe('reading balancer-manager', () => {
  it('reads the nonce and every worker of the recorded Apache 2.4.68 page', () => {
    expect(parseBalancerManager(page, 'app')).toEqual({
      nonce: NONCE,
      members: [
        { name: 'app1', address: '10.77.0.12', port: 8080, admin: 'drain', up: true, sessions: 0 },
        { name: 'app2', address: '10.77.0.13', port: 8080, admin: 'disabled', up: false, sessions: 0 },
        { name: 'app3', address: '10.77.0.14', port: 8080, admin: 'ready', up: true, sessions: 0 },
      ],
    });
  });

  it('reads the Busy column as sessions', () => {
    const busy = page.replace(
      /(<td>Init Ok\s*<\/td>\s*<td>0<\/td>\s*<td>)0(<\/td>)/,
      (_, before: string, after: string) => `${before}4${after}`,
    );
    expect(parseBalancerManager(busy, 'app')?.members.map((m) => m.sessions)).toEqual([0, 0, 4]);
  });

  it('knows no balancer the page does not show', () => {
    expect(parseBalancerManager(page, 'ap')).toBeUndefined();
    expect(parseBalancerManager(page, 'api')).toBeUndefined();
  });
});

describe('BalancerMember lines', () => {
  it('sets status=+N for drain and status=+D for disabled on the member line only', () => {
    expect(configWithState(CONFIG, 'app', app3, 'drain')).toBe(
      CONFIG.replace('"http://10.77.0.14:8080" route=app3', '"http://10.77.0.14:8080" route=app3 status=+N'),
    );
    expect(configWithState(CONFIG, 'app', app3, 'disabled')).toBe(
      CONFIG.replace('"http://10.77.0.14:8080" route=app3', '"http://10.77.0.14:8080" route=app3 status=+D'),
    );
  });

  it('replaces a status rather than adding a second one, and removes it for ready', () => {
    expect(configWithState(CONFIG, 'app', app1, 'disabled')).toBe(
      CONFIG.replace('app1 status=+N', 'app1 status=+D'),
    );
    expect(configWithState(CONFIG, 'app', app1, 'ready')).toBe(CONFIG.replace('app1 status=+N', 'app1'));
    const drained = configWithState(CONFIG, 'app', app3, 'drain');
    expect(configWithState(drained, 'app', app3, 'drain')).toBe(drained);
  });

  it('finds an unquoted URL with a trailing slash and keeps the other parameters', () => {
    const inBalancer = (line: string) => `<Proxy balancer://app>\n${line}\n</Proxy>\n`;
    const config = inBalancer(
      '    BalancerMember http://10.77.0.14:8080/ route=app3 loadfactor=2 status=+D timeout=5',
    );
    expect(configWithState(config, 'app', app3, 'drain')).toBe(
      inBalancer('    BalancerMember "http://10.77.0.14:8080" route=app3 loadfactor=2 timeout=5 status=+N'),
    );
    expect(configWithState(config, 'app', app3, 'ready')).toBe(
      inBalancer('    BalancerMember "http://10.77.0.14:8080" route=app3 loadfactor=2 timeout=5'),
    );
  });

  it('does not take a worker on another port or a longer address for the member', () => {
    const config =
      'BalancerMember "http://10.77.0.14:8081" route=x\nBalancerMember "http://10.77.0.140:8080" route=y\n';
    expect(configWithState(config, 'app', app3, 'disabled')).toBe(config);
    expect(configWithoutMember(config, 'app', app3)).toBe(config);
  });

  it("adds a member after the balancer's last BalancerMember, with its route and state", () => {
    expect(configWithMember(CONFIG, 'app', member('app4', '10.77.0.15'), 'disabled')).toBe(
      CONFIG.replace(
        'route=app3\n',
        'route=app3\n    BalancerMember "http://10.77.0.15:8080" route=app4 status=+D\n',
      ),
    );
    expect(configWithMember(CONFIG, 'app', member('app4', '10.77.0.15'), 'ready')).toBe(
      CONFIG.replace('route=app3\n', 'route=app3\n    BalancerMember "http://10.77.0.15:8080" route=app4\n'),
    );
  });

  it('adds to the named balancer only, and to none when the balancer is not there', () => {
    const two = `<Proxy balancer://api>
  BalancerMember http://10.77.0.12:9090 route=app1
</Proxy>
<Proxy balancer://app>
  BalancerMember http://10.77.0.12:8080 route=app1
</Proxy>
`;
    expect(configWithMember(two, 'app', member('app4', '10.77.0.15'), 'ready')).toBe(
      two.replace(
        '10.77.0.12:8080 route=app1\n',
        '10.77.0.12:8080 route=app1\n  BalancerMember "http://10.77.0.15:8080" route=app4\n',
      ),
    );
    expect(configWithMember(two, 'web', member('app4', '10.77.0.15'), 'ready')).toBe(two);
  });

  it('removes the member line and nothing else', () => {
    expect(configWithoutMember(CONFIG, 'app', member('app2', '10.77.0.13'))).toBe(
      CONFIG.replace('    BalancerMember "http://10.77.0.13:8080" route=app2 status=+D\n', ''),
    );
    expect(configWithoutMember(CONFIG, 'app', member('app9', '10.77.0.19'))).toBe(CONFIG);
  });
});

const STATUS: Record<AdminState, string> = { ready: 'Init Ok', drain: 'Init Drn Ok', disabled: 'Init Dis' };

/**
 * An LB host whose balancer-manager serves the recorded page. A POST changes the page the way
 * Apache does: only with the page's nonce and a Referer naming the manager, unless `ignorePosts`
 * makes it ignore every change while still answering 200. A graceful restart drops the workers
 * that balancer://app no longer has in the config.
 */
function fakeApache(options: { ignorePosts?: boolean; config?: string } = {}) {
  let html = page;
  let file = options.config ?? CONFIG;
  const commands: string[] = [];
  const writes: string[] = [];
  const result = execResult;

  const post = (referer: string, form: URLSearchParams) => {
    if (options.ignorePosts || referer !== MANAGER || form.get('nonce') !== NONCE || form.get('b') !== 'app')
      return;
    const state: AdminState =
      form.get('w_status_D') === '1' ? 'disabled' : form.get('w_status_N') === '1' ? 'drain' : 'ready';
    const worker = form.get('w');
    html = html
      .split('<tr>')
      .map((row) =>
        row.includes(`>${worker}</a`) ? row.replace(/<td>Init[^<]*<\/td>/, `<td>${STATUS[state]}</td>`) : row,
      )
      .join('<tr>');
  };

  const runPlain = async (command: string): Promise<ExecResult> => {
    commands.push(command);
    if (command === `curl -fsS --max-time 10 ${MANAGER}`) return result(0, html);
    const m = /^curl -fsS --max-time 10 -o \/dev\/null -H '([^']*)' --data '([^']*)' (\S+)$/.exec(command);
    if (m && m[3] === MANAGER) {
      post(m[1].replace(/^Referer: /, ''), new URLSearchParams(m[2]));
      return result(0, '');
    }
    if (command === 'apache2ctl -t') return result(0, '', 'Syntax OK\n');
    if (command === 'apache2ctl graceful') {
      const block = /<Proxy "?balancer:\/\/app"?>([\s\S]*?)<\/Proxy>/.exec(file)?.[1] ?? '';
      html = html
        .split('<tr>')
        .filter((row) => {
          const worker = />(http:\/\/[0-9.:]+)<\/a/.exec(row)?.[1];
          return !worker || block.includes(`${worker}"`) || block.includes(`${worker} `);
        })
        .join('<tr>');
      return result(0, '');
    }
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

const lb = lbInput({ kind: 'apache', backend: 'app', config: CONF, apache: { managerUrl: MANAGER } });

const READ = `curl -fsS --max-time 10 ${MANAGER}`;

describe('Apache driver', () => {
  it('drains through balancer-manager with its nonce and Referer, then reads the page back', async () => {
    const fake = fakeApache();
    const driver = apacheDriver(fake.host, lb);
    expect(await driver.setState(app3, 'drain')).toBe(true);
    expect(fake.commands).toEqual([
      READ,
      'apache2ctl -t',
      `curl -fsS --max-time 10 -o /dev/null -H 'Referer: http://127.0.0.1/balancer-manager' --data 'b=app&w=http%3A%2F%2F10.77.0.14%3A8080&nonce=${NONCE}&w_status_D=0&w_status_N=1' http://127.0.0.1/balancer-manager`,
      READ,
    ]);
    expect(fake.config()).toBe(configWithState(CONFIG, 'app', app3, 'drain'));
    expect((await driver.members())[2]).toEqual(expect.objectContaining({ name: 'app3', admin: 'drain' }));
  });

  it('disables with w_status_D=1 and keeps status=+D in the config for a restart', async () => {
    const fake = fakeApache();
    expect(await apacheDriver(fake.host, lb).setState(app3, 'disabled')).toBe(true);
    expect(fake.commands[2]).toContain(`&w_status_D=1&w_status_N=0'`);
    expect(fake.config()).toContain('BalancerMember "http://10.77.0.14:8080" route=app3 status=+D\n');
  });

  it('fails as refused when Apache answers the POST but the page still shows the old state', async () => {
    const fake = fakeApache({ ignorePosts: true });
    await expect(apacheDriver(fake.host, lb).setState(app3, 'drain')).rejects.toMatchObject({
      type: 'LbRefused',
      nonRetryable: true,
      message: expect.stringContaining('did not take app3 -> drain (shows ready)'),
    });
    expect(fake.commands.filter((c) => c === READ)).toHaveLength(2);
  });

  it('sends no POST for a member already in the wanted state and in step with the config', async () => {
    const fake = fakeApache();
    expect(await apacheDriver(fake.host, lb).setState(app1, 'drain')).toBe(false);
    expect(fake.commands).toEqual([READ]);
    expect(fake.writes).toEqual([]);
  });

  it('refuses a worker the balancer does not have', async () => {
    const fake = fakeApache();
    await expect(
      apacheDriver(fake.host, lb).setState(member('app3', '10.77.0.14', 8081), 'drain'),
    ).rejects.toMatchObject({ type: 'LbMemberMissing' });
    expect(fake.commands).toEqual([READ]);
  });

  it('removes a worker from the config and waits until balancer-manager no longer shows it', async () => {
    const fake = fakeApache();
    const driver = apacheDriver(fake.host, lb);
    expect(await driver.removeMember(app3)).toBe(true);
    expect(fake.config()).toBe(
      CONFIG.replace('    BalancerMember "http://10.77.0.14:8080" route=app3\n', ''),
    );
    expect(fake.commands.slice(0, 3)).toEqual(['apache2ctl -t', 'apache2ctl graceful', READ]);
    expect((await driver.members()).map((m) => m.name)).toEqual(['app1', 'app2']);
    expect(await driver.removeMember(app3)).toBe(false);
  });

  // The same node serving two balancers: the pool the driver manages is lb.backend alone.
  const twoBalancers = `${CONFIG}<Proxy "balancer://api">
    BalancerMember "http://10.77.0.14:8080" route=app3 loadfactor=2
</Proxy>
`;

  it('disables a worker in its own balancer only, leaving another balancer with the same worker alone', async () => {
    const fake = fakeApache({ config: twoBalancers });
    await apacheDriver(fake.host, lb).setState(app3, 'disabled');
    expect(fake.config()).toBe(
      twoBalancers.replace(
        '    BalancerMember "http://10.77.0.14:8080" route=app3\n',
        '    BalancerMember "http://10.77.0.14:8080" route=app3 status=+D\n',
      ),
    );
  });

  it('removes a worker from its own balancer only, leaving another balancer with the same worker alone', async () => {
    const fake = fakeApache({ config: twoBalancers });
    await apacheDriver(fake.host, lb).removeMember(app3);
    expect(fake.config()).toBe(
      twoBalancers.replace('    BalancerMember "http://10.77.0.14:8080" route=app3\n', ''),
    );
  });
});

describe("seed 002's mod_proxy_ajp balancer", () => {
  const AJP = `<Proxy balancer://oxcluster>
    BalancerMember ajp://10.77.0.21:8009 smax=0 ttl=60 retry=5 loadfactor=50 route=OX-1
</Proxy>
`;
  const ox2 = { node: 'oxgw2', name: 'OX-2', address: '10.77.0.22', port: 8009 };
  const ox1 = { node: 'oxgw1', name: 'OX-1', address: '10.77.0.21', port: 8009 };

  it('adds an ajp:// member with its route after the last one', () => {
    expect(configWithMember(AJP, 'oxcluster', ox2, 'disabled', 'ajp')).toBe(
      AJP.replace(
        'route=OX-1\n',
        'route=OX-1\n    BalancerMember "ajp://10.77.0.22:8009" route=OX-2 status=+D\n',
      ),
    );
    expect(
      configWithMember(AJP, 'oxcluster', ox2, 'ready', 'ajp', 'smax=0 ttl=60 retry=5 loadfactor=50'),
    ).toBe(
      AJP.replace(
        'route=OX-1\n',
        'route=OX-1\n    BalancerMember "ajp://10.77.0.22:8009" smax=0 ttl=60 retry=5 loadfactor=50 route=OX-2\n',
      ),
    );
  });

  it("reads an ajp:// worker on AJP's own port, which balancer-manager leaves out", () => {
    const ajpPage = page.replace(/http:\/\/10\.77\.0\.12:8080/g, 'ajp://10.77.0.12');
    expect(parseBalancerManager(ajpPage, 'app')?.members[0]).toMatchObject({
      address: '10.77.0.12',
      port: 8009,
    });
    // ... and the same name is what a change through balancer-manager must give.
    expect(managerWorkerName(ox1, 'ajp')).toBe('ajp://10.77.0.21');
    expect(managerWorkerName({ ...ox1, port: 8010 }, 'ajp')).toBe('ajp://10.77.0.21:8010');
    expect(managerWorkerName(app1, 'http')).toBe('http://10.77.0.12:8080');
  });

  it("drains and removes an ajp:// member by its line, keeping the guide's parameters", () => {
    expect(configWithState(AJP, 'oxcluster', ox1, 'drain', 'ajp')).toBe(
      AJP.replace(
        'BalancerMember ajp://10.77.0.21:8009 smax=0 ttl=60 retry=5 loadfactor=50 route=OX-1',
        'BalancerMember "ajp://10.77.0.21:8009" smax=0 ttl=60 retry=5 loadfactor=50 route=OX-1 status=+N',
      ),
    );
    expect(configWithoutMember(AJP, 'oxcluster', ox1, 'ajp')).toBe(
      '<Proxy balancer://oxcluster>\n</Proxy>\n',
    );
    // An http:// member of the same address is another worker.
    expect(configWithoutMember(AJP, 'oxcluster', ox1)).toBe(AJP);
  });
});
