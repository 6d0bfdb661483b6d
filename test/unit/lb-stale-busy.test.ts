import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COUNT_CAN_GO_STALE, nodeRequestsCommand, withoutStaleCounts } from '../../activities/lb/stale-busy';

describe('an Apache Busy count with no connection behind it', () => {
  it('is taken as 0 when the node was in no request on both looks, and named', () => {
    const r = withoutStaleCounts({ lb3: 1, lb4: 0 }, ['lb3'], [0, 0]);
    expect(r.counts).toEqual({ lb3: 0, lb4: 0 });
    expect(r.stale).toEqual([{ lb: 'lb3', counted: 1 }]);
  });

  it('is believed while the node is in a request, on either look', () => {
    expect(withoutStaleCounts({ lb3: 2 }, ['lb3'], [1]).counts).toEqual({ lb3: 2 });
    expect(withoutStaleCounts({ lb3: 2 }, ['lb3'], [0, 1]).counts).toEqual({ lb3: 2 });
  });

  it('is believed after one idle look only: a request on its way may not be on the node yet', () => {
    expect(withoutStaleCounts({ lb3: 1 }, ['lb3'], [0]).stale).toEqual([]);
  });

  it('is believed when the node could not be asked', () => {
    expect(withoutStaleCounts({ lb3: 1 }, ['lb3'], [undefined, undefined]).counts).toEqual({ lb3: 1 });
    expect(withoutStaleCounts({ lb3: 1 }, ['lb3'], [0, undefined]).counts).toEqual({ lb3: 1 });
  });

  it('touches only the LBs it was asked to check', () => {
    expect(withoutStaleCounts({ lb1: 3, lb3: 1 }, ['lb3'], [0, 0]).counts).toEqual({ lb1: 3, lb3: 0 });
  });

  it('applies to Apache only: HAProxy counts its sessions exactly', () => {
    expect([...COUNT_CAN_GO_STALE]).toEqual(['apache']);
  });

  describe("the node's count of connections in a request", () => {
    // `ss -Htni` on an app node behind Apache, recorded: an idle keep-alive connection and one
    // with a request it has not answered yet.
    const recorded = readFileSync(
      path.join(__dirname, '../fixtures/lb/ss-app-port-one-in-request.txt'),
      'utf8',
    );
    const count = (ss: string) => {
      const awk = nodeRequestsCommand(8080).split(' | ').slice(1).join(' | ');
      return spawnSync('sh', ['-c', awk], { input: ss, encoding: 'utf8' }).stdout.trim();
    };

    it('leaves out idle keep-alive connections and counts the one in a request', () => {
      expect(count(recorded)).toBe('1');
    });

    it('counts a connection that sent in the last second (an answer going out)', () => {
      expect(count(recorded.replace(/lastsnd:\d+ lastrcv:(\d+)/, 'lastsnd:20 lastrcv:$1'))).toBe('2');
    });

    it('counts a fresh connection with a request waiting: nothing sent, its times equal', () => {
      const fresh = recorded.replace(/bytes_sent:\d+ bytes_acked:\d+ /, '');
      expect(fresh).not.toBe(recorded);
      expect(count(fresh)).toBe('2');
    });

    it('counts a connection whose times it cannot read', () => {
      expect(count(recorded.replace(/lastsnd:\d+ /, ''))).toBe('2');
    });

    it('prints 0 when the port has no connection', () => {
      expect(count('')).toBe('0');
    });

    it('asks ss for established connections on the service port', () => {
      expect(nodeRequestsCommand(8443)).toMatch(/^ss -Htni state established '\( sport = :8443 \)' \| awk /);
    });
  });
});
