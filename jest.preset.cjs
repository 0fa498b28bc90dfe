// Shared jest configuration for every package. Tests run TypeScript sources directly (no build needed):
// @bigr/* imports map to each package's src/index.ts, and ESM-style './x.js' specifiers map to './x'.
const path = require('node:path');
const repoRoot = __dirname;
module.exports = (packageDir) => ({
  rootDir: packageDir,
  testEnvironment: path.join(repoRoot, 'packages/testing/jest/environment.cjs'),
  transform: { '^.+\\.(t|j)sx?$': path.join(repoRoot, 'packages/testing/jest/transform.cjs') },
  moduleNameMapper: {
    '^@bigr/cli$': path.join(repoRoot, 'apps/cli/src/index.ts'),
    '^@bigr/([a-z-]+)$': path.join(repoRoot, 'packages/$1/src/index.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  setupFiles: [path.join(repoRoot, 'packages/testing/jest/setup.cjs')],
  testTimeout: 120000,
  maxWorkers: 1,
});
