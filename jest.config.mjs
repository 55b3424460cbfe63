// Jest runs the tests through jest-light-runner: each worker is a plain Node process that keeps its loaded modules
// from one test file to the next (Jest's own runner loads Nest, TypeORM and the rest again for every file in a VM
// context, about a second per file). TypeScript is compiled by swc as it is imported, with the build's options
// (test/runner/ts-hooks.mjs). A file's tests still run in order, one file at a time per worker; what a file leaves in
// a process (a server it did not close, a changed global) is its bug, as it would be in the product.
import { fileURLToPath } from 'node:url';
import { TEST_TIMEOUT_MS } from './test/runner/timeouts.mjs';

const register = `--import=${fileURLToPath(new URL('./test/runner/register-ts.mjs', import.meta.url))}`;
// The workers are forked with this environment; test/runner/register-ts.mjs takes the flag out again in each worker.
const inherited = (process.env.NODE_OPTIONS ?? '').split(' ').filter((option) => option !== '' && option !== register);
process.env.NODE_OPTIONS = [...inherited, register, '--enable-source-maps'].join(' ');

export default {
  rootDir: '.',
  testRegex: 'test/.*\\.(e2e-spec|spec)\\.ts$',
  runner: 'jest-light-runner/child-process',
  setupFilesAfterEnv: ['./test/runner/setup.mjs'],
  globalSetup: './test/helpers/global-setup.mjs',
  globalTeardown: './test/helpers/global-teardown.mjs',
  testTimeout: TEST_TIMEOUT_MS,
  // Three workers on the two cores of CI: most of a test's time is spent waiting on PostgreSQL, HTTP and child
  // processes, so a third worker fills the idle CPU (see README Tests).
  maxWorkers: 3,
};
