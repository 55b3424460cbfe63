// The unit tier: specs that need no database and no server (`npm run test:unit`). Same transform and module
// mapping as jest.config.mjs, but no global setup, so no PostgreSQL is started; test/unit/no-network.mjs makes
// any attempt to open a connection fail loudly. `npm test` (jest.config.mjs) runs these specs too.
import base from './jest.config.mjs';

export default {
  testEnvironment: base.testEnvironment,
  rootDir: base.rootDir,
  testRegex: ['test/unit/.*\\.spec\\.ts$', 'test/architecture/.*\\.spec\\.ts$', 'test/sync/svix-verifier\\.spec\\.ts$'],
  extensionsToTreatAsEsm: base.extensionsToTreatAsEsm,
  moduleNameMapper: base.moduleNameMapper,
  transform: base.transform,
  setupFiles: ['./test/unit/no-network.mjs'],
  testTimeout: 10000,
  maxWorkers: 2,
};
