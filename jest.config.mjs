// Jest runs in native ESM mode (see README "Tests"); TypeScript is compiled by swc.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    target: 'es2022',
    keepClassNames: true,
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

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
  maxWorkers: 2,
};
