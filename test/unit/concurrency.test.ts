import { mapWithLimit } from '../../common/concurrency';

describe('mapWithLimit', () => {
  it('never runs more than the limit at once and keeps input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const result = await mapWithLimit([50, 10, 30, 5, 20, 1], 2, async (ms, i) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return i;
    });
    expect(result).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('handles an empty list and refuses a limit below one', async () => {
    await expect(mapWithLimit([], 3, async () => 1)).resolves.toEqual([]);
    await expect(mapWithLimit([1], 0, async () => 1)).rejects.toThrow(RangeError);
  });
});
