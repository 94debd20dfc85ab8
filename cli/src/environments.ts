/** The environments `pulse --env` takes: the local stack and the deployed ones (terraform/envs). */
export const ENVIRONMENTS = ['local', 'dev', 'staging', 'prod'] as const;
export type EnvName = (typeof ENVIRONMENTS)[number];
