// Mutation testing (`make mutation`, not part of `make test`): StrykerJS on the jest runner.
// One scope per run (STRYKER_SCOPE), each mutating a few files and running only their own unit
// tests, one process at a time: Stryker is CPU-heavy and the CI machine has 2 cores.
// No TypeScript checker: it needs TypeScript's JS API, which TypeScript 7 does not ship. A mutant
// that would not type-check still runs, and usually dies in the tests.
const SCOPES = {
  // The failure layer: what sets a key aside and re-drives it, and the ledger under it.
  failure: {
    mutate: ['services/shared/failure/*.ts'],
    tests: ['test/unit/shared/failure/*.test.ts'],
  },
  // The alert outbox: claim, publish, mark SENT, and the sweep.
  outbox: {
    mutate: ['services/fraud-rules/outbox.ts', 'services/fraud-rules/alerts.ts'],
    tests: [
      'test/unit/fraud-rules/outbox-claim.test.ts',
      'test/unit/fraud-rules/outbox-claims.property.test.ts',
      'test/unit/fraud-rules/outbox-head-of-line.test.ts',
      'test/unit/fraud-rules/detector.test.ts',
      'test/unit/fraud-rules/messages.test.ts',
      'test/unit/fraud-rules/handler.test.ts',
    ],
  },
  // Single functions pinned by dedicated tests (alert ids, metric units, state trimming, applyRecords).
  pins: {
    mutate: [
      'services/fraud-rules/rules.ts:280-285',
      'services/metrics-emitter/windows.ts:175-230',
      'services/metrics-emitter/windows.ts:340-350',
      'services/session-updater/sessions.ts:117-193',
    ],
    tests: [
      'test/unit/fraud-rules/alert-id-scope.test.ts',
      'test/unit/fraud-rules/rules.test.ts',
      'test/unit/metrics-emitter/windows.test.ts',
      'test/unit/session-updater/sessions.test.ts',
      'test/unit/session-updater/item-bytes.test.ts',
    ],
  },
};

const scope = process.env.STRYKER_SCOPE ?? 'failure';
if (!(scope in SCOPES)) {
  throw new Error(`STRYKER_SCOPE must be one of ${Object.keys(SCOPES).join(', ')}, got ${JSON.stringify(scope)}`);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  plugins: ['@stryker-mutator/jest-runner'],
  // STRYKER_MUTATE (comma-separated, e.g. one file) narrows the scope for a quicker run.
  mutate: process.env.STRYKER_MUTATE ? process.env.STRYKER_MUTATE.split(',') : SCOPES[scope].mutate,
  // A static mutant (a module-level constant) needs every test re-run in a fresh process: too
  // slow for 2 cores. Stryker counts them as ignored, not as survived.
  ignoreStatic: true,
  checkers: [],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.cjs',
    // Only the scope's own unit tests: a property test elsewhere that happens to reach a mutated
    // line would run once per mutant and multiply the run time.
    config: { testMatch: SCOPES[scope].tests.map((t) => `<rootDir>/${t}`) },
    enableFindRelatedTests: false,
  },
  // The sandbox is a copy of the repository: leave out what the unit tests never read. That
  // includes tsconfig.json: Stryker would rewrite it through TypeScript's JS API (see above), and
  // jest never reads it (@swc/jest strips types without it).
  ignorePatterns: ['/tsconfig.json', '.venv', '.venv-checkov', '.local', '.bench', 'dist', 'reports', 'terraform/.terraform', 'coverage'],
  tempDirName: '.local/stryker-tmp',
  cleanTempDir: true,
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${scope}.html` },
  jsonReporter: { fileName: `reports/mutation/${scope}.json` },
  thresholds: { high: 90, low: 80, break: null },
};
