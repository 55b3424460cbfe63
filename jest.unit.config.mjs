// The unit tier: specs that need no database and no server (`npm run test:unit`). Same runner and TypeScript hooks
// as jest.config.mjs, but no global setup, so no PostgreSQL is started; test/unit/no-network.mjs makes any attempt to
// open a connection fail loudly. `npm test` (jest.config.mjs) runs these specs too.
import base from './jest.config.mjs';

// The worker threads start with this environment: test/runner/timeouts.mjs reads it.
process.env.TEST_TIMEOUT_MS = '10000';

export default {
  rootDir: base.rootDir,
  testRegex: ['test/unit/.*\\.spec\\.ts$', 'test/architecture/.*\\.spec\\.ts$', 'test/sync/svix-verifier\\.spec\\.ts$'],
  runner: base.runner,
  setupFiles: ['./test/unit/no-network.mjs'],
  setupFilesAfterEnv: base.setupFilesAfterEnv,
  testTimeout: Number(process.env.TEST_TIMEOUT_MS),
  maxWorkers: 2,
};
