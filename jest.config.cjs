// TypeScript is compiled by @swc/jest: it strips types without type-checking (that is `make typecheck`),
// which keeps the suite fast on a 2-core CI machine.
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // hyparquet ships ES modules only: jest (CommonJS here) must compile it like our code.
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  setupFiles: ['<rootDir>/test/helpers/env.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/no-node-warning.ts'],
  globalSetup: '<rootDir>/test/helpers/node-major.cjs',
};
