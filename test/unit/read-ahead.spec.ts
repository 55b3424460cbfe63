import { setImmediate as tick } from 'node:timers/promises';
import { readAhead } from '../../src/common/read-ahead.js';

/** A source of 0..n-1 that records what it was asked for, one item at a time. */
function counting(n: number, failAt?: number) {
  const log = { produced: 0, active: 0, maxActive: 0, closed: false };
  async function* source(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        log.active++;
        log.maxActive = Math.max(log.maxActive, log.active);
        await tick();
        log.active--;
        if (i === failAt) throw new Error(`item ${i} failed`);
        log.produced++;
        yield i;
      }
    } finally {
      log.closed = true;
    }
  }
  return { log, source: source() };
}

describe('readAhead', () => {
  it('yields every item in order', async () => {
    const { source } = counting(7);
    const out: number[] = [];
    for await (const x of readAhead(source, 2)) out.push(x);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('asks the source for up to `depth` items beyond the one being consumed, one at a time', async () => {
    const { log, source } = counting(10);
    const it = readAhead(source, 2)[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 0, done: false });
    for (let i = 0; i < 10; i++) await tick(); // the consumer is busy with item 0
    expect(log.produced).toBe(3); // 0, and 1 and 2 ahead; not more
    expect(log.maxActive).toBe(1); // never two items in the making at once
    expect(await it.next()).toEqual({ value: 1, done: false });
    for (let i = 0; i < 10; i++) await tick();
    expect(log.produced).toBe(4);
    await it.return(undefined);
  });

  it('throws a failure of the source where its item would have come', async () => {
    const { source } = counting(10, 4);
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const x of readAhead(source, 3)) out.push(x);
      })(),
    ).rejects.toThrow('item 4 failed');
    expect(out).toEqual([0, 1, 2, 3]);
  });

  it('when the consumer stops early, lets the requests already made settle and closes the source', async () => {
    const { log, source } = counting(100);
    for await (const x of readAhead(source, 2)) {
      if (x === 5) break;
    }
    expect(log.active).toBe(0);
    expect(log.closed).toBe(true);
    expect(log.produced).toBeLessThanOrEqual(8);
  });
});
