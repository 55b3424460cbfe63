// jest-light-runner runs each test and hook without a time limit; this gives them Jest's: a test or hook that has not
// settled after its timeout (the third argument of `it`, the second of a hook, else TEST_TIMEOUT_MS) fails, as under
// Jest's own runner, instead of holding the run until CI's limit. Loaded once per worker (setupFilesAfterEnv).
import { LIMITED, limited } from './timeouts.mjs';

function limitTests(original) {
  const test = (what) => (name, fn, timeout) => what(name, limited(fn, timeout, 'a test'), timeout);
  const wrapped = test(original);
  wrapped.only = test(original.only);
  wrapped.skip = original.skip;
  wrapped.todo = original.todo;
  wrapped.each =
    (...table) =>
    (name, fn, timeout) =>
      original.each(...table)(name, limited(fn, timeout, 'a test'), timeout);
  wrapped[LIMITED] = true;
  return wrapped;
}

function limitHook(original) {
  const wrapped = (fn, timeout) => original(limited(fn, timeout, 'a hook'), timeout);
  wrapped[LIMITED] = true;
  return wrapped;
}

globalThis.it = globalThis.test = limitTests(globalThis.it);
for (const hook of ['beforeAll', 'afterAll', 'beforeEach', 'afterEach']) globalThis[hook] = limitHook(globalThis[hook]);
