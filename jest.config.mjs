// Jest runs in native ESM mode (see README "Tests"); TypeScript is compiled by swc, as the build does.
import { swcOptions } from './scripts/swc-options.mjs';

const swc = swcOptions('inline');

export default {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: 'test/.*\\.(e2e-spec|spec)\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  globalSetup: './test/helpers/global-setup.mjs',
  globalTeardown: './test/helpers/global-teardown.mjs',
  testTimeout: 60000,
  // Three workers on the two cores of CI: most of a test's time is spent waiting on PostgreSQL, HTTP and child
  // processes, so a third worker fills the idle CPU (the whole suite in 244 s instead of about 300 s; see README Tests).
  maxWorkers: 3,
};
