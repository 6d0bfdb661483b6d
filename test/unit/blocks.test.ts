import { BlockTracker, type BlockPlace } from '../../common/blocks';

// block / rescue / always per host, over a flat task list: what ansible-core does when a task
// in a block fails, when its rescue fails, and when blocks nest.

const B = (id: string): BlockPlace[] => [{ id, part: 'block' }];
const R = (id: string): BlockPlace[] => [{ id, part: 'rescue' }];
const A = (id: string): BlockPlace[] => [{ id, part: 'always' }];

describe('blocks', () => {
  const hosts = ['h1', 'h2'];

  it('send a host that fails in the block to the rescue, and recover it there', () => {
    const t = new BlockTracker([B('b'), B('b'), R('b'), A('b'), undefined]);
    expect(t.advance(B('b'), hosts)).toEqual({ failed: [], rescued: [] });
    expect(t.fail('h1', B('b'))).toBe(false);
    expect(t.runs('h1', B('b'))).toBe(false);
    expect(t.runs('h2', B('b'))).toBe(true);
    t.advance(R('b'), hosts);
    expect([t.runs('h1', R('b')), t.runs('h2', R('b'))]).toEqual([true, false]);
    t.advance(A('b'), hosts);
    expect([t.runs('h1', A('b')), t.runs('h2', A('b'))]).toEqual([true, true]);
    expect(t.advance(undefined, hosts)).toEqual({ failed: [], rescued: ['h1'] });
  });

  it('fail the host out of the play when the rescue fails too, after always', () => {
    const t = new BlockTracker([B('b'), R('b'), A('b')]);
    t.advance(B('b'), hosts);
    t.fail('h2', B('b'));
    t.advance(R('b'), hosts);
    t.fail('h2', R('b'));
    t.advance(A('b'), hosts);
    expect(t.runs('h2', A('b'))).toBe(true);
    expect(t.finish(hosts)).toEqual({ failed: ['h2'], rescued: [] });
  });

  it('fail the host at the end of a block without a rescue, having run always', () => {
    const t = new BlockTracker([B('b'), A('b')]);
    t.advance(B('b'), hosts);
    t.fail('h1', B('b'));
    t.advance(A('b'), hosts);
    expect(t.runs('h1', A('b'))).toBe(true);
    expect(t.finish(hosts).failed).toEqual(['h1']);
  });

  it('let an unrecovered inner failure reach the outer block’s rescue', () => {
    const inner: BlockPlace[] = [
      { id: 'o', part: 'block' },
      { id: 'i', part: 'block' },
    ];
    const outerRescue = R('o');
    const t = new BlockTracker([inner, outerRescue]);
    t.advance(inner, hosts);
    expect(t.fail('h1', inner)).toBe(false);
    expect(t.advance(outerRescue, hosts)).toEqual({ failed: [], rescued: [] });
    expect([t.runs('h1', outerRescue), t.runs('h2', outerRescue)]).toEqual([true, false]);
    expect(t.finish(hosts)).toEqual({ failed: [], rescued: ['h1'] });
  });

  it('take a failure outside any block out of the play at once', () => {
    expect(new BlockTracker([]).fail('h1')).toBe(true);
  });
});
