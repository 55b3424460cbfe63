// Jest runs the tests through jest-light-runner: each worker is a worker thread that keeps its loaded modules from one
// test file to the next (Jest's own runner loads Nest, TypeORM and the rest again for every file in a VM context, about
// a second per file). TypeScript is compiled by swc as it is imported, with the build's options (test/runner/ts-hooks.mjs,
// installed by `npm run jest`'s --import, which the worker threads inherit). A file's tests still run in order, one
// file at a time per worker; what a file leaves in its thread (a server it did not close, a changed global) is its
// bug, as it would be in the product. Worker threads, not the runner's child processes: in one CI run a child process
// never started the file it was sent, and Jest waited for it forever.
import { TEST_TIMEOUT_MS } from './test/runner/timeouts.mjs';

export default {
  rootDir: '.',
  testRegex: 'test/.*\\.(e2e-spec|spec)\\.ts$',
  runner: 'jest-light-runner',
  setupFilesAfterEnv: ['./test/runner/setup.mjs'],
  globalSetup: './test/helpers/global-setup.mjs',
  globalTeardown: './test/helpers/global-teardown.mjs',
  testTimeout: TEST_TIMEOUT_MS,
  // Three workers on the two cores of CI: most of a test's time is spent waiting on PostgreSQL, HTTP and child
  // processes, so a third worker fills the idle CPU (see README Tests).
  maxWorkers: 3,
};
