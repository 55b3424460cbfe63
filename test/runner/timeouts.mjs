// The time limits of tests and hooks under jest-light-runner, which has none of its own (see ./setup.mjs).

/** How long a test or hook may take unless it says otherwise: Jest's testTimeout (TEST_TIMEOUT_MS in the environment
 * when a config sets its own, as the unit tier does). */
export const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS ?? 60_000);

/** Marks the test functions that ./setup.mjs put a time limit on. */
export const LIMITED = Symbol.for('neon-auth.test.limited');

/**
 * `fn` with a time limit: its promise (or value) if it settles within `timeout` ms (TEST_TIMEOUT_MS when undefined),
 * else an error in Jest's words. What `fn` started goes on in the background, as under Jest's own runner.
 */
export function limited(fn, timeout, what) {
  if (typeof fn !== 'function') return fn;
  const ms = timeout ?? TEST_TIMEOUT_MS;
  return function (...args) {
    let timer;
    const expired = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Exceeded timeout of ${ms} ms for ${what}.\nAdd a timeout value to this ${what} to increase the timeout, if this is a long-running ${what}.`)),
        ms,
      );
    });
    return Promise.race([Promise.resolve().then(() => fn.apply(this, args)), expired]).finally(() => clearTimeout(timer));
  };
}
