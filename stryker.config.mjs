// Mutation testing (`make mutation`, not part of `make test`): StrykerJS on the jest runner.
// One scope per run (STRYKER_SCOPE), each mutating a few files and running only the unit tests
// related to them, one process at a time: Stryker is CPU-heavy and the CI machine has 2 cores.
// No TypeScript checker: it needs TypeScript's JS API, which TypeScript 7 does not ship. A mutant
// that would not type-check still runs, and usually dies in the tests.
const SCOPES = {
  // The failure layer: what sets a user aside and brings them back.
  failure: ['services/shared/failure-ledger.ts'],
  // The alert outbox: claim, publish, mark SENT, and the sweep.
  outbox: ['services/fraud-rules/outbox.ts', 'services/fraud-rules/alerts.ts'],
  // Single functions pinned by dedicated tests (alert ids, metric units, state trimming, applyRecords).
  pins: [
    'services/fraud-rules/rules.ts:280-285',
    'services/metrics-emitter/windows.ts:175-230',
    'services/metrics-emitter/windows.ts:340-350',
    'services/session-updater/sessions.ts:117-193',
  ],
};

const scope = process.env.STRYKER_SCOPE ?? 'failure';
if (!(scope in SCOPES)) {
  throw new Error(`STRYKER_SCOPE must be one of ${Object.keys(SCOPES).join(', ')}, got ${JSON.stringify(scope)}`);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  plugins: ['@stryker-mutator/jest-runner'],
  mutate: SCOPES[scope],
  checkers: [],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.cjs',
    // Unit tests only, and of those only the ones that import a mutated file.
    config: { testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    enableFindRelatedTests: true,
  },
  // The sandbox is a copy of the repository: leave out what the unit tests never read. That
  // includes tsconfig.json: Stryker would rewrite it through TypeScript's JS API (see above), and
  // jest never reads it (@swc/jest strips types without it).
  ignorePatterns: ['/tsconfig.json', '.venv', '.venv-checkov', '.local', '.bench', 'dist', 'reports', 'terraform/.terraform', 'coverage'],
  tempDirName: '.local/stryker-tmp',
  cleanTempDir: true,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${scope}.html` },
  jsonReporter: { fileName: `reports/mutation/${scope}.json` },
  thresholds: { high: 90, low: 80, break: null },
};
