// The test runner's limits (test/runner/timeouts.mjs, installed by test/runner/setup.mjs): jest-light-runner has no
// time limits and does not check expect.assertions(n), so without them a hung test would hold CI until its 90-minute
// limit and a test that asserted nothing could pass.
import { isMainThread } from 'node:worker_threads';
import { LIMITED, limitHook, limited, limitTests } from '../runner/timeouts.mjs';

/** A stand-in for circus's `it`: records what would be registered. */
function fakeIt() {
  const registered: { name: string; fn: (...args: unknown[]) => unknown; timeout?: number; only?: boolean }[] = [];
  const it = ((name: string, fn: (...args: unknown[]) => unknown, timeout?: number) => void registered.push({ name, fn, timeout })) as unknown as jest.It;
  Object.assign(it, {
    only: (name: string, fn: (...args: unknown[]) => unknown, timeout?: number) => void registered.push({ name, fn, timeout, only: true }),
    skip: () => undefined,
    todo: () => undefined,
    each:
      (table: unknown[][]) =>
      (name: string, fn: (...args: unknown[]) => unknown, timeout?: number) =>
        table.forEach((row, i) => registered.push({ name: `${name} ${i}`, fn: () => fn(...row), timeout })),
  });
  (it.only as unknown as Record<string, unknown>).each = (it as unknown as Record<string, unknown>).each;
  return { it, registered };
}

const never = () => new Promise(() => undefined);

describe('time limits of tests and hooks', () => {
  it('fails a test that has not settled in time, in Jest words, with the timeout given to it', async () => {
    const { it: fake, registered } = fakeIt();
    limitTests(fake)('hangs', never, 30);
    expect(registered[0].timeout).toBe(30);
    await expect(registered[0].fn()).rejects.toThrow('Exceeded timeout of 30 ms for a test.');
  });

  it('limits every form: only, each, only.each and hooks', async () => {
    const { it: fake, registered } = fakeIt();
    const limitedIt = limitTests(fake);
    limitedIt.only('only', never, 20);
    limitedIt.each([[1], [2]])('each', never, 20);
    (limitedIt.only as unknown as { each: typeof limitedIt.each }).each([[3]])('only each', never, 20);
    expect(registered.map((r) => r.name)).toEqual(['only', 'each 0', 'each 1', 'only each 0']);
    for (const r of registered) await expect(r.fn()).rejects.toThrow('Exceeded timeout of 20 ms for a test.');

    let hooked: () => unknown = () => undefined;
    const hook = limitHook(((fn: () => unknown) => void (hooked = fn)) as unknown as jest.Lifecycle);
    hook(never, 20);
    await expect(Promise.resolve(hooked())).rejects.toThrow('Exceeded timeout of 20 ms for a hook.');
  });

  it('waits for a done callback, and fails with the error given to it', async () => {
    let finished = false;
    await limited((done: () => void) => void setTimeout(() => ((finished = true), done()), 30), 1_000, 'a test')();
    expect(finished).toBe(true);
    await expect(limited((done: (err?: unknown) => void) => void setTimeout(() => done(new Error('failed later')), 10), 1_000, 'a test')()).rejects.toThrow('failed later');
    // Declared through `it`, called as the runner calls it (through promise.then, so with `undefined`).
    const { it: fake, registered } = fakeIt();
    let waited = false;
    limitTests(fake)('done later', (done: () => void) => void setTimeout(() => ((waited = true), done()), 30));
    limitTests(fake)('done never', (_done: () => void) => undefined, 50);
    await registered[0].fn(undefined);
    expect(waited).toBe(true);
    await expect(registered[1].fn(undefined)).rejects.toThrow('Exceeded timeout of 50 ms for a test.');
    // With each's row values first: done is the parameter after them.
    const seen: unknown[] = [];
    await limited((a: number, done: () => void) => (seen.push(a), done()), 1_000, 'a test')(7);
    expect(seen).toEqual([7]);
  });

  it('passes on what settles in time: its value, its error, its arguments and this', async () => {
    const echo = limited(function (this: unknown, ...args: unknown[]) {
      return Promise.resolve({ self: this, args });
    }, 1_000, 'a test');
    expect(await echo.call('me', 1, 2)).toEqual({ self: 'me', args: [1, 2] });
    await expect(limited(() => Promise.reject(new Error('its own')), 1_000, 'a hook')()).rejects.toThrow('its own');
    await expect(limited(() => { throw new Error('thrown at once'); }, 1_000, 'a hook')()).rejects.toThrow('thrown at once');
  });

  it('fails a test that asked for assertions it did not make', async () => {
    const { it: fake, registered } = fakeIt();
    const limitedIt = limitTests(fake);
    limitedIt('asks for two, makes one', () => {
      expect.assertions(2);
      expect(1).toBe(1);
    });
    limitedIt('asks for some, makes none', () => expect.hasAssertions());
    limitedIt('asks for one, makes one', () => {
      expect.assertions(1);
      expect(1).toBe(1);
    });
    // (expect's messages are coloured)
    await expect(registered[0].fn()).rejects.toThrow(/Expected .*two assertions.* to be called but received .*one assertion call/);
    await expect(registered[1].fn()).rejects.toThrow(/Expected .*at least one assertion.* to be called but .*received none/);
    await expect(registered[2].fn()).resolves.toBeUndefined();
  });

  it('is on the globals every spec uses, and process.exit fails instead of ending the thread', () => {
    for (const fn of [it, test, fit, beforeAll, afterAll, beforeEach, afterEach]) expect((fn as unknown as Record<symbol, unknown>)[LIMITED]).toBe(true);
    // In a worker thread (not with --runInBand, where the tests share Jest's own thread).
    if (!isMainThread) expect(() => process.exit(3)).toThrow('process.exit(3) was called in a test thread');
  });
});
