/** Named errors: callers branch on `name`/`instanceof`, logs show what went wrong. */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Another writer changed the item since we read it; re-read and recompute. */
export class ConcurrentUpdateError extends Error {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`item ${key} changed since it was read`, options);
    this.name = 'ConcurrentUpdateError';
  }
}

export function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

/** True for the SDK's conditional-check failure, from a single write or inside a transaction. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}
