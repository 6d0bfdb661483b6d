import { readFileSync } from 'fs';
import path from 'path';
import { ApplicationFailure } from '@temporalio/common';
import type { LbHost } from '../../activities/lb/driver';
import { lvsDriver, parseIpvsadmList, parseIpvsadmStats } from '../../activities/lb/lvs';
import { execResult, lbInput } from './lb-fake-host';
import type { ExecResult } from '../../activities/ssh/exec';
import type { LbMember, LoadBalancerInput } from '../../common/lb';

// ipvsadm output recorded in test/fixtures/lvs/ (its README says where the format comes from).
const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/lvs', name), 'utf8');
const listing = fixture('ipvsadm-Ln.txt');

const TITLE = [
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
];
const METHOD: Record<string, string> = { '-m': 'Masq', '-g': 'Route', '-i': 'Tunnel' };
const SAVE =
  'ipvsadm-save -n > /etc/ipvsadm.rules.clusterflow && if cmp -s /etc/ipvsadm.rules.clusterflow /etc/ipvsadm.rules; then rm -f /etc/ipvsadm.rules.clusterflow; else mv -f /etc/ipvsadm.rules.clusterflow /etc/ipvsadm.rules; fi';

/** Splits a command line the way sh does, for the quoting shellQuote produces. */
function shWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') word = (word ?? '') + line[++i];
    else if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  return word === undefined ? words : [...words, word];
}

/** ipvsadm's own real-server line: `"  -> %-28s %-7s %-6d %-10u %-10u\n"`. */
const realServerLine = (rip: string, forward: string, weight: number, active: number, inactive: number) =>
  `  -> ${rip.padEnd(28)} ${forward.padEnd(7)} ${String(weight).padEnd(6)} ${String(active).padEnd(10)} ${String(inactive).padEnd(10)}`;

/**
 * An LB host whose kernel table starts as the recorded `ipvsadm -Ln` and changes as ipvsadm
 * would change it; every command is recorded.
 */
function fakeLvs(recorded = listing) {
  const lines = recorded.split('\n');
  const commands: string[] = [];
  const result = execResult;
  const service = (vip: string): [number, number] | undefined => {
    const start = lines.findIndex((l) => l.startsWith(`TCP  ${vip} `));
    if (start < 0) return undefined;
    let end = start + 1;
    while (end < lines.length && lines[end].startsWith('  -> ')) end++;
    return [start, end];
  };
  const realServer = ([start, end]: [number, number], rip: string) => {
    const at = lines.findIndex((l, i) => i > start && i < end && l.startsWith(`  -> ${rip.padEnd(28)} `));
    return at < 0 ? undefined : at;
  };

  const ipvsadm = (w: string[]): ExecResult => {
    const [op, , vip, , rip, flag, , weight] = w.slice(1);
    const range = service(vip);
    if (!range) return result(1, '', 'No such service\n');
    if (op === '-Ln') return result(0, [...TITLE, ...lines.slice(...range)].join('\n') + '\n');
    const at = realServer(range, rip);
    if (op === '-e' || op === '-d') {
      if (at === undefined) return result(1, '', 'No such destination\n');
      if (op === '-d') lines.splice(at, 1);
      else {
        const [, , , , active, inactive] = lines[at].trim().split(/\s+/);
        lines[at] = realServerLine(rip, METHOD[flag], Number(weight), Number(active), Number(inactive));
      }
      return result(0, '');
    }
    if (op === '-a') {
      if (at !== undefined) return result(1, '', 'Destination already exists\n');
      lines.splice(range[1], 0, realServerLine(rip, METHOD[flag], Number(weight), 0, 0));
      return result(0, '');
    }
    return result(2, '', `unexpected ipvsadm ${w.join(' ')}\n`);
  };

  const run = async (command: string): Promise<ExecResult> => {
    commands.push(command);
    const w = shWords(command);
    if (w[0] === 'ipvsadm-save') return result(0, '');
    if (w[0] === 'ipvsadm') return ipvsadm(w);
    return result(127, '', `sh: ${w[0]}: not found\n`);
  };
  const host: LbHost = {
    target: { name: 'lb1' },
    run,
    // As Remote.must: a failed command becomes a non-retryable failure naming the step.
    must: async (command, step) => {
      const r = await run(command);
      if (r.exitCode !== 0)
        throw ApplicationFailure.nonRetryable(`lb1: ${step} failed: ${r.stderr.trim()}`, 'CommandFailed');
      return r;
    },
    stat: () => Promise.reject(new Error('the LVS driver reads no files')),
    writeFile: () => Promise.reject(new Error('the LVS driver writes no files')),
  };
  return { host, commands, table: () => lines.join('\n') };
}

function lvs(overrides: { backend?: string; config?: string; lvs?: object } = {}): LoadBalancerInput {
  return lbInput({
    kind: 'lvs',
    backend: overrides.backend ?? '10.77.0.100:80',
    config: overrides.config,
    lvs: overrides.lvs,
  });
}

const node = (address: string, port = 8080): LbMember => ({
  node: `n-${address}`,
  name: `n-${address}`,
  address,
  port,
});

describe('parsing ipvsadm -Ln', () => {
  it('reads active connections as sessions and weight 0 as drain', () => {
    expect(parseIpvsadmList(listing, '10.77.0.100:80')).toEqual([
      {
        name: '10.77.1.11:8080',
        address: '10.77.1.11',
        port: 8080,
        admin: 'ready',
        sessions: 14,
        forward: 'Masq',
        weight: 1,
      },
      {
        name: '10.77.1.12:8080',
        address: '10.77.1.12',
        port: 8080,
        admin: 'drain',
        sessions: 3,
        forward: 'Masq',
        weight: 0,
      },
      {
        name: '10.77.1.13:8080',
        address: '10.77.1.13',
        port: 8080,
        admin: 'ready',
        sessions: 11,
        forward: 'Masq',
        weight: 1,
      },
    ]);
  });

  it('keeps to the requested service: another port on the same address is another pool', () => {
    const https = parseIpvsadmList(listing, '10.77.0.100:443');
    expect(https?.map((s) => [s.name, s.forward, s.sessions])).toEqual([
      ['10.77.1.11:443', 'Route', 52],
      ['10.77.1.12:443', 'Route', 49],
    ]);
    expect(parseIpvsadmList(listing, '10.77.0.101:8080')).toEqual([
      expect.objectContaining({ name: '10.77.2.31:8080', forward: 'Tunnel', weight: 3, sessions: 2 }),
    ]);
  });

  it('ignores UDP and firewall-mark services', () => {
    expect(parseIpvsadmList(listing, '10.77.0.53:53')).toBeUndefined();
    expect(parseIpvsadmList(listing, '7')).toBeUndefined();
  });

  it('tells an absent service from one without real servers', () => {
    const empty = fixture('ipvsadm-Ln-empty.txt');
    expect(parseIpvsadmList(empty, '10.77.0.100:80')).toBeUndefined();
    expect(parseIpvsadmList(`${empty}TCP  10.77.0.100:80 wlc\n`, '10.77.0.100:80')).toEqual([]);
  });
});

describe('parsing ipvsadm -Ln --stats', () => {
  it('parses exact counters per real server of one TCP service', () => {
    const stats = parseIpvsadmStats(fixture('ipvsadm-Ln-stats.txt'), '10.77.0.100:80');
    expect(stats && Object.fromEntries(stats)).toEqual({
      '10.77.1.11:8080': {
        conns: 61502,
        inPkts: 797215,
        outPkts: 729544,
        inBytes: 137310480,
        outBytes: 1607797312,
      },
      '10.77.1.12:8080': {
        conns: 61480,
        inPkts: 796402,
        outPkts: 728871,
        inBytes: 137402215,
        outBytes: 1608201337,
      },
      '10.77.1.13:8080': {
        conns: 61485,
        inPkts: 796794,
        outPkts: 729349,
        inBytes: 137380616,
        outBytes: 1607313223,
      },
    });
  });

  it('parses --stats with K/M suffixes as the truncated value they print', () => {
    const stats = parseIpvsadmStats(fixture('ipvsadm-Ln-stats-suffixed.txt'), '10.77.0.100:80');
    expect(stats?.get('10.77.1.11:8080')).toEqual({
      conns: 61502,
      inPkts: 797215,
      outPkts: 729544,
      inBytes: 137310000,
      outBytes: 1607000000,
    });
  });

  it('reads every suffixed counter within one unit below the exact one', () => {
    const exact = parseIpvsadmStats(fixture('ipvsadm-Ln-stats.txt'), '10.77.0.100:80')!;
    const suffixed = parseIpvsadmStats(fixture('ipvsadm-Ln-stats-suffixed.txt'), '10.77.0.100:80')!;
    expect([...suffixed.keys()]).toEqual([...exact.keys()]);
    for (const [rip, counters] of suffixed)
      for (const [key, value] of Object.entries(counters)) {
        const truth = exact.get(rip)![key as keyof typeof counters];
        expect(value).toBeLessThanOrEqual(truth);
        expect(truth - value).toBeLessThan(1e6);
      }
  });

  it('ignores UDP and firewall-mark services in --stats', () => {
    const text = fixture('ipvsadm-Ln-stats.txt');
    expect(parseIpvsadmStats(text, '10.77.0.53:53')).toBeUndefined();
    expect(parseIpvsadmStats(text, '7')).toBeUndefined();
    expect([...parseIpvsadmStats(text, '10.77.0.100:443')!.keys()]).toEqual([
      '10.77.1.11:443',
      '10.77.1.12:443',
    ]);
  });
});

describe('LVS driver', () => {
  it('lists the real servers of the virtual service as members, with no health view', async () => {
    const fake = fakeLvs();
    expect(await lvsDriver(fake.host, lvs()).members()).toEqual([
      { name: '10.77.1.11:8080', address: '10.77.1.11', port: 8080, admin: 'ready', sessions: 14 },
      { name: '10.77.1.12:8080', address: '10.77.1.12', port: 8080, admin: 'drain', sessions: 3 },
      { name: '10.77.1.13:8080', address: '10.77.1.13', port: 8080, admin: 'ready', sessions: 11 },
    ]);
    expect(fake.commands).toEqual(['ipvsadm -Ln -t 10.77.0.100:80']);
  });

  it('quiesces a real server by setting its weight to 0, keeping its forwarding method', async () => {
    const fake = fakeLvs();
    const driver = lvsDriver(fake.host, lvs());
    expect(await driver.setState(node('10.77.1.11'), 'drain')).toBe(true);
    expect(fake.commands).toEqual([
      'ipvsadm -Ln -t 10.77.0.100:80',
      'ipvsadm -e -t 10.77.0.100:80 -r 10.77.1.11:8080 -m -w 0',
      SAVE,
    ]);
    // Established connections run on: the drain waits for them.
    expect((await driver.members())[0]).toEqual(expect.objectContaining({ admin: 'drain', sessions: 14 }));
  });

  it('disables a real server with the same weight 0, since LVS has no disable of its own', async () => {
    const fake = fakeLvs();
    expect(await lvsDriver(fake.host, lvs()).setState(node('10.77.1.13'), 'disabled')).toBe(true);
    expect(fake.commands[1]).toBe('ipvsadm -e -t 10.77.0.100:80 -r 10.77.1.13:8080 -m -w 0');
  });

  it('does nothing to the table when the weight is already 0', async () => {
    const fake = fakeLvs();
    const driver = lvsDriver(fake.host, lvs());
    expect(await driver.setState(node('10.77.1.12'), 'drain')).toBe(false);
    expect(await driver.setState(node('10.77.1.12'), 'disabled')).toBe(false);
    expect(fake.commands.filter((c) => c.startsWith('ipvsadm -e'))).toEqual([]);
    expect(fake.table()).toBe(listing);
  });

  it("puts a real server back at the spec's weight", async () => {
    const fake = fakeLvs();
    expect(
      await lvsDriver(fake.host, lvs({ lvs: { weight: 5 } })).setState(node('10.77.1.12'), 'ready'),
    ).toBe(true);
    expect(fake.commands[1]).toBe('ipvsadm -e -t 10.77.0.100:80 -r 10.77.1.12:8080 -m -w 5');
  });

  it('keeps direct routing and tunnelling when it changes a weight', async () => {
    const routed = fakeLvs();
    await lvsDriver(routed.host, lvs({ backend: '10.77.0.100:443' })).setState(
      node('10.77.1.11', 443),
      'drain',
    );
    expect(routed.commands[1]).toBe('ipvsadm -e -t 10.77.0.100:443 -r 10.77.1.11:443 -g -w 0');
    const tunnelled = fakeLvs();
    await lvsDriver(tunnelled.host, lvs({ backend: '10.77.0.101:8080' })).setState(
      node('10.77.2.31'),
      'ready',
    );
    expect(tunnelled.commands[1]).toBe('ipvsadm -e -t 10.77.0.101:8080 -r 10.77.2.31:8080 -i -w 1');
  });

  it('refuses a member that is not a real server of the virtual service', async () => {
    const fake = fakeLvs();
    // A real server of the UDP service on another address, and one of the same pool on another port.
    for (const member of [node('10.77.1.21', 53), node('10.77.1.11', 443)])
      await expect(lvsDriver(fake.host, lvs()).setState(member, 'drain')).rejects.toMatchObject({
        type: 'LbMemberMissing',
        nonRetryable: true,
      });
    expect(fake.commands).toEqual(['ipvsadm -Ln -t 10.77.0.100:80', 'ipvsadm -Ln -t 10.77.0.100:80']);
  });

  it('fails naming the virtual service when LVS does not have it', async () => {
    const fake = fakeLvs();
    await expect(lvsDriver(fake.host, lvs({ backend: '10.77.0.200:80' })).members()).rejects.toMatchObject({
      type: 'CommandFailed',
      message: expect.stringMatching(/10\.77\.0\.200:80.*No such service/),
    });
  });

  it('adds a joining real server at weight 0 with the forwarding method of the spec', async () => {
    const fake = fakeLvs();
    const driver = lvsDriver(fake.host, lvs({ lvs: { forwarding: 'gatewaying' } }));
    expect(await driver.addMember(node('10.77.1.14'), 'disabled')).toBe(true);
    expect(fake.commands).toEqual([
      'ipvsadm -Ln -t 10.77.0.100:80',
      'ipvsadm -a -t 10.77.0.100:80 -r 10.77.1.14:8080 -g -w 0',
      SAVE,
    ]);
    expect(await driver.members()).toContainEqual({
      name: '10.77.1.14:8080',
      address: '10.77.1.14',
      port: 8080,
      admin: 'drain',
      sessions: 0,
    });
  });

  it('adds a real server straight into service when asked for ready', async () => {
    const fake = fakeLvs();
    await lvsDriver(fake.host, lvs({ lvs: { weight: 10, forwarding: 'ipip' } })).addMember(
      node('10.77.1.14'),
      'ready',
    );
    expect(fake.commands[1]).toBe('ipvsadm -a -t 10.77.0.100:80 -r 10.77.1.14:8080 -i -w 10');
  });

  it('leaves a real server that is already there as it is, so a re-run join changes nothing', async () => {
    const fake = fakeLvs();
    const driver = lvsDriver(fake.host, lvs());
    expect(await driver.addMember(node('10.77.1.12'), 'disabled')).toBe(false);
    expect(await driver.addMember(node('10.77.1.12'), 'ready')).toBe(false);
    expect(fake.commands.filter((c) => /^ipvsadm -[aed] /.test(c))).toEqual([]);
    expect(fake.table()).toBe(listing);
  });

  it('removes a real server and saves the rules', async () => {
    const fake = fakeLvs();
    const driver = lvsDriver(fake.host, lvs());
    expect(await driver.removeMember(node('10.77.1.13'))).toBe(true);
    expect(fake.commands).toEqual([
      'ipvsadm -Ln -t 10.77.0.100:80',
      'ipvsadm -d -t 10.77.0.100:80 -r 10.77.1.13:8080',
      SAVE,
    ]);
    expect((await driver.members()).map((m) => m.name)).toEqual(['10.77.1.11:8080', '10.77.1.12:8080']);
  });

  it('changes nothing when the real server to remove is not there', async () => {
    const fake = fakeLvs();
    expect(await lvsDriver(fake.host, lvs()).removeMember(node('10.77.1.99'))).toBe(false);
    expect(fake.commands.some((c) => c.startsWith('ipvsadm -d'))).toBe(false);
    expect(fake.table()).toBe(listing);
  });

  it('brings the rules file in step even when the table already was, so a retry after a failed save repairs it', async () => {
    const fake = fakeLvs();
    await lvsDriver(fake.host, lvs()).setState(node('10.77.1.12'), 'drain');
    expect(fake.commands).toEqual(['ipvsadm -Ln -t 10.77.0.100:80', SAVE]);
  });

  it('every interpolated value is shell-quoted', async () => {
    const fake = fakeLvs();
    const config = "/etc/ipvs rules/it's.rules";
    const driver = lvsDriver(fake.host, lvs({ config }));
    await driver.addMember(node('10.77.1.14;reboot'), 'disabled');
    const [, add, save] = fake.commands;
    expect(add).toBe("ipvsadm -a -t 10.77.0.100:80 -r '10.77.1.14;reboot:8080' -m -w 0");
    expect(shWords(add)).toEqual([
      'ipvsadm',
      '-a',
      '-t',
      '10.77.0.100:80',
      '-r',
      '10.77.1.14;reboot:8080',
      '-m',
      '-w',
      '0',
    ]);
    const file = `'/etc/ipvs rules/it'\\''s.rules'`;
    const next = `'/etc/ipvs rules/it'\\''s.rules.clusterflow'`;
    expect(save).toBe(
      `ipvsadm-save -n > ${next} && if cmp -s ${next} ${file}; then rm -f ${next}; else mv -f ${next} ${file}; fi`,
    );
    expect(shWords(save).slice(0, 4)).toEqual(['ipvsadm-save', '-n', '>', `${config}.clusterflow`]);
  });
});
