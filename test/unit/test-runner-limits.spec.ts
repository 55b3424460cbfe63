// The test runner's time limits (test/runner/setup.mjs): jest-light-runner has none of its own, so a hung test would
// hold CI until its 90-minute limit instead of failing after Jest's timeout.
import { LIMITED, limited, TEST_TIMEOUT_MS } from '../runner/timeouts.mjs';

describe('time limits of tests and hooks', () => {
  it('fails what has not settled in time, in Jest words', async () => {
    const never = limited(() => new Promise(() => undefined), 30, 'a test');
    await expect(never()).rejects.toThrow('Exceeded timeout of 30 ms for a test.');
  });

  it('passes on what settles in time: its value, its error, its arguments and this', async () => {
    const echo = limited(function (this: unknown, ...args: unknown[]) {
      return Promise.resolve({ self: this, args });
    }, 1_000, 'a test');
    expect(await echo.call('me', 1, 2)).toEqual({ self: 'me', args: [1, 2] });
    await expect(limited(() => Promise.reject(new Error('its own')), 1_000, 'a hook')()).rejects.toThrow('its own');
    await expect(limited(() => { throw new Error('thrown at once'); }, 1_000, 'a hook')()).rejects.toThrow('thrown at once');
  });

  it('is on the globals every spec uses, with the unit tier its own default', () => {
    for (const fn of [it, test, beforeAll, afterAll, beforeEach, afterEach]) expect((fn as unknown as Record<symbol, unknown>)[LIMITED]).toBe(true);
    expect(typeof it.each).toBe('function');
    expect(TEST_TIMEOUT_MS).toBe(Number(process.env.TEST_TIMEOUT_MS ?? 60_000));
  });
});
