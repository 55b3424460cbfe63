// jest-light-runner runs each test and hook without a time limit and does not check expect.assertions(n); this gives
// them Jest's behaviour (./timeouts.mjs): a test or hook that has not settled after its timeout (the third argument
// of `it`, the second of a hook, else TEST_TIMEOUT_MS) fails instead of holding the run until CI's limit. Loaded once
// per worker (setupFilesAfterEnv).
import { isMainThread } from 'node:worker_threads';
import { limitHook, limitTests } from './timeouts.mjs';

const it = limitTests(globalThis.it);
globalThis.it = globalThis.test = it;
globalThis.fit = it.only;
globalThis.xit = globalThis.xtest = it.skip;
for (const hook of ['beforeAll', 'afterAll', 'beforeEach', 'afterEach']) globalThis[hook] = limitHook(globalThis[hook]);

if (!isMainThread) {
  // process.exit() in a worker thread ends the thread, and the runner then waits for its file forever: fail instead.
  process.exit = (code) => {
    throw new Error(`process.exit(${code ?? ''}) was called in a test thread; a test must not end the process (start a child process instead)`);
  };
}

// jest-light-runner gives its threads FORCE_COLOR="undefined" when the output is not a terminal; the processes a
// test starts would inherit that string.
if (process.env.FORCE_COLOR === 'undefined') delete process.env.FORCE_COLOR;
