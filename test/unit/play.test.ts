import { overFailureBudget, serialBatches, taskSelected } from '../../common/play';

const hosts = Array.from({ length: 10 }, (_, i) => `h${i + 1}`);

describe('serial batches', () => {
  it('puts every host in one batch without serial', () => {
    expect(serialBatches(hosts)).toEqual([hosts]);
  });
  it('splits by a number, the last batch taking the rest', () => {
    expect(serialBatches(hosts, 4).map((b) => b.length)).toEqual([4, 4, 2]);
  });
  it('splits by a percentage of all hosts', () => {
    expect(serialBatches(hosts, '30%').map((b) => b.length)).toEqual([3, 3, 3, 1]);
  });
  it('ramps up, repeating the last step', () => {
    expect(serialBatches(hosts, [1, '20%', '50%']).map((b) => b.length)).toEqual([1, 2, 5, 2]);
  });
  it('never makes an empty batch, even for a tiny percentage', () => {
    expect(serialBatches(hosts, '1%').map((b) => b.length)).toEqual(Array(10).fill(1));
  });
  it('refuses a step that is neither a number nor a percentage', () => {
    expect(() => serialBatches(hosts, 'half')).toThrow(/neither a number nor a percentage/);
  });
});

describe('failure budget', () => {
  it('stops when the failed share exceeds max_fail_percentage', () => {
    expect(overFailureBudget(1, 4, 25)).toBe(false);
    expect(overFailureBudget(2, 4, 25)).toBe(true);
    expect(overFailureBudget(1, 4, 0)).toBe(true);
  });
  it('without max_fail_percentage, stops only when the whole batch failed', () => {
    expect(overFailureBudget(3, 4)).toBe(false);
    expect(overFailureBudget(4, 4)).toBe(true);
  });
});

describe('tags', () => {
  it('selects tagged tasks, and always those tagged always', () => {
    expect(taskSelected({ tags: ['config'] }, [])).toBe(true);
    expect(taskSelected({ tags: ['config'] }, ['config', 'x'])).toBe(true);
    expect(taskSelected({ tags: ['config'] }, ['restart'])).toBe(false);
    expect(taskSelected({ tags: ['always'] }, ['restart'])).toBe(true);
  });
});
