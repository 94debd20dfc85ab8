/**
 * Which failures may set a record aside. The rule is one-sided on purpose: an error is treated as
 * transient (the shard waits, Lambda retries) unless it is proven deterministic, because setting a
 * user aside during an outage would only add work, and waiting never loses a record.
 *
 * - `transient`: throttling, 5xx, timeouts, network errors, a dependency down or misconfigured
 *   (DynamoDB included), a lost optimistic-lock race. Never counted, never set aside.
 * - `deterministic`: an error that cannot succeed on retry (the request itself is invalid, or the
 *   code says so with DeterministicError). Set aside at once.
 * - `unknown`: anything else (a bug throwing for one record). Counted in the ledger; set aside
 *   when the same record failed `parkAfter` times.
 */
export type FailureClass = 'transient' | 'deterministic' | 'unknown';

/** Thrown by code that knows a record can never be applied as it is. */
export class DeterministicError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeterministicError';
  }
}

/** Thrown by code that knows a dependency failed for now (e.g. unprocessed batch writes). */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

const TRANSIENT_NAMES = new Set([
  'TransientError',
  'ConcurrentUpdateError',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSThrottlingException',
  'KMSInternalException',
  // The environment, not the record: fixed by a deploy, after which the shard goes on.
  'AccessDeniedException',
  'AccessDenied',
  'AuthorizationError',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'ResourceNotFoundException',
  'ResourceNotFound',
  'NotFound',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'CredentialsProviderError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/** Requests that can never succeed as sent: retrying the same record gives the same answer. */
const DETERMINISTIC_NAMES = new Set([
  'DeterministicError',
  'ValidationException',
  'SerializationException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'InvalidParameterException',
  'MissingParameter',
  'ItemCollectionSizeLimitExceededException',
]);

interface SdkLike {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

export function classify(err: unknown, depth = 0): FailureClass {
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as SdkLike;
  const name = e.name ?? '';
  if (TRANSIENT_NAMES.has(name)) return 'transient';
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return 'transient';
  if (e.$retryable) return 'transient';
  if (e.$fault === 'server') return 'transient';
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return 'transient';
  if (DETERMINISTIC_NAMES.has(name)) return 'deterministic';
  // A wrapper says no more than what it wraps.
  if (e.cause !== undefined && depth < 5) return classify(e.cause, depth + 1);
  return 'unknown';
}
