/**
 * Before a command reads a deployed environment: the SDK must find a region and credentials. Without
 * them every call fails alike ("Region is missing" once per table, queue and function), so this
 * says once what is missing and how to set it, and the command fails before it reads anything.
 */
import type { EnvName } from './environments.js';

/** The SDK's own resolution of the two (a client's config), so profiles, SSO and roles count. */
export interface AwsSetupProbe {
  region(): Promise<string>;
  credentials(): Promise<unknown>;
}

export class AwsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsSetupError';
  }
}

const HOW = {
  region:
    'an AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1), or AWS_PROFILE naming a profile with a region in ~/.aws/config',
  credentials:
    'AWS credentials: set AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
} as const;

/** Resolves both and throws one AwsSetupError naming everything missing. */
export async function checkAwsSetup(env: EnvName, probe: AwsSetupProbe): Promise<void> {
  const missing: (keyof typeof HOW)[] = [];
  const region = await probe.region().then(
    (r) => r,
    () => undefined,
  );
  if (!region) missing.push('region');
  // Credentials are looked for even without a region, so one run names both.
  if (
    !(await probe.credentials().then(
      (c) => Boolean(c),
      () => false,
    ))
  )
    missing.push('credentials');
  if (missing.length === 0) return;
  throw new AwsSetupError(
    `--env ${env} needs ${missing.map((m) => HOW[m]).join('; and ')}. (--env local needs neither: make local-up.)`,
  );
}
