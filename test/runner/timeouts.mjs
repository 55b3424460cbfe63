// The time limits of tests and hooks under jest-light-runner, which has none of its own (see ./setup.mjs).

/**
 * How long a test or hook may take unless it says otherwise: Jest's testTimeout. A config that wants another default
 * sets TEST_TIMEOUT_MS in the environment before the workers start (the unit tier does); Jest's --testTimeout and
 * jest.setTimeout are not seen by this runner.
 */
export const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS ?? 60_000);

/** Marks the test functions that ./setup.mjs put a time limit on. */
export const LIMITED = Symbol.for('neon-auth.test.limited');

/**
 * `fn` with a time limit: its promise (or value) if it settles within `timeout` ms (TEST_TIMEOUT_MS when undefined),
 * else an error in Jest's words. A `fn` that declares one parameter more than it is given (a `done` callback, as Jest
 * allows) is given one and waited for. What `fn` started goes on in the background, as under Jest's own runner.
 * The returned function declares no parameters, so the runner never passes a `done` of its own.
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
    const run =
      fn.length > args.length
        ? new Promise((resolve, reject) => {
            const asError = (err) => (err instanceof Error ? err : new Error(String(err)));
            const done = (err) => (err ? reject(asError(err)) : resolve());
            done.fail = (err) => reject(asError(err ?? 'done.fail()'));
            try {
              fn.call(this, ...args, done);
            } catch (err) {
              reject(err);
            }
          })
        : Promise.resolve().then(() => fn.apply(this, args));
    return Promise.race([run, expired]).finally(() => clearTimeout(timer));
  };
}

/**
 * `limited`, and what Jest checks after a test that this runner does not: `expect.assertions(n)` and
 * `expect.hasAssertions()`. `expect` is the runner's (jest-light-runner sets it globally).
 */
export function limitedTest(fn, timeout) {
  const run = limited(fn, timeout, 'a test');
  if (typeof run !== 'function') return run;
  return async function (...args) {
    const expect = globalThis.expect;
    expect?.setState({ assertionCalls: 0, expectedAssertionsNumber: null, isExpectingAssertions: false });
    await run.apply(this, args);
    const [problem] = expect?.extractExpectedAssertionsErrors() ?? [];
    if (problem) throw problem.error;
  };
}

/**
 * What the runner calls for a plain test or hook: `fn` with no arguments (the runner calls a function that declares
 * none through `promise.then(fn)`, which would hand it `undefined` where a `done` is looked for).
 */
function called(fn) {
  return typeof fn === 'function'
    ? function () {
        return fn.call(this);
      }
    : fn;
}

/** Jest's test-declaring function `original` (it, test) with time limits on every form used here. */
export function limitTests(original) {
  const declare = (what) => (name, fn, timeout) => what(name, called(limitedTest(fn, timeout)), timeout);
  const wrapped = declare(original);
  wrapped.only = declare(original.only);
  wrapped.skip = original.skip;
  wrapped.todo = original.todo;
  wrapped.each =
    (...table) =>
    (name, fn, timeout) =>
      original.each(...table)(name, limitedTest(fn, timeout), timeout);
  wrapped.only.each =
    (...table) =>
    (name, fn, timeout) =>
      original.only.each(...table)(name, limitedTest(fn, timeout), timeout);
  wrapped[LIMITED] = wrapped.only[LIMITED] = true;
  return wrapped;
}

/** A hook-declaring function (beforeAll and the rest) with time limits. */
export function limitHook(original) {
  const wrapped = (fn, timeout) => original(called(limited(fn, timeout, 'a hook')), timeout);
  wrapped[LIMITED] = true;
  return wrapped;
}
