import { editDistance, suggest, unknownKeyMessage } from '../../common/suggest';

describe('edit distance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('hots', 'hosts')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('counts a swap of two neighbours as one slip', () => {
    expect(editDistance('tiemout', 'timeout')).toBe(1);
    expect(editDistance('whne', 'when')).toBe(1);
  });
});

describe('did you mean', () => {
  const maintenance = ['play', 'serial', 'maxFailPercentage', 'drainTimeoutSeconds', 'onDrainTimeout'];

  it('offers the key a typo most likely meant', () => {
    expect(suggest('drainTimeoutSecs', maintenance)).toBe('drainTimeoutSeconds');
    expect(suggest('seiral', maintenance)).toBe('serial');
    expect(suggest('hots', ['name', 'hosts', 'tasks'])).toBe('hosts');
  });

  it('ignores case, dashes and underscores, so snake_case finds camelCase', () => {
    expect(suggest('drain_timeout_seconds', maintenance)).toBe('drainTimeoutSeconds');
    expect(suggest('MaxFailPercentage', maintenance)).toBe('maxFailPercentage');
  });

  it('offers nothing when no key is close, even for short words', () => {
    expect(suggest('retries', maintenance)).toBeUndefined();
    expect(suggest('to', ['tcp', 'http'])).toBeUndefined();
    expect(suggest('date', ['path'])).toBeUndefined();
    expect(suggest('x', ['ok'])).toBeUndefined();
  });

  it('prefers the closest key, and the earlier one of equally close keys', () => {
    expect(suggest('become_usr', ['become', 'become_user'])).toBe('become_user');
    expect(suggest('pat', ['path', 'part'])).toBe('path');
  });

  it('says unknown key with the suggestion, or lists the keys when none is close', () => {
    expect(unknownKeyMessage('seiral', maintenance)).toBe('unknown key; did you mean serial?');
    expect(unknownKeyMessage('zzz', ['a1', 'b2'])).toBe('unknown key (expected one of: a1, b2)');
  });
});
