import { ConcurrentUpdateError } from '../../../../services/shared/errors.js';
import {
  classify,
  DeterministicError,
  TransientError,
} from '../../../../services/shared/failure/classify.js';
import { awsError } from '../../../helpers/fake-dynamo.js';

test.each([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'TransactionConflictException',
])('%s is transient', (name) => {
  expect(classify(awsError(name))).toBe('transient');
});

test('named transient errors of our own are transient', () => {
  expect(classify(new TransientError('x'))).toBe('transient');
  expect(classify(new ConcurrentUpdateError('k'))).toBe('transient');
});

test('network codes, retryable and server faults, 5xx and 429 are transient; 4xx is not', () => {
  expect(classify(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('transient');
  expect(classify(Object.assign(new Error('x'), { code: 'EAI_AGAIN' }))).toBe('transient');
  expect(classify(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('unknown');
  expect(classify(Object.assign(new Error('x'), { $retryable: {} }))).toBe('transient');
  expect(classify(Object.assign(new Error('x'), { $fault: 'server' }))).toBe('transient');
  expect(classify(Object.assign(new Error('x'), { $fault: 'client' }))).toBe('unknown');
  expect(classify(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 500 } }))).toBe('transient');
  expect(classify(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } }))).toBe('transient');
  expect(classify(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 499 } }))).toBe('unknown');
  expect(classify(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 400 } }))).toBe('unknown');
});

test('requests that can never succeed are deterministic, unless the service says to retry', () => {
  expect(classify(new DeterministicError('x'))).toBe('deterministic');
  expect(classify(awsError('ValidationException'))).toBe('deterministic');
  expect(classify(awsError('InvalidParameterValue'))).toBe('deterministic');
  expect(
    classify(Object.assign(awsError('ValidationException'), { $metadata: { httpStatusCode: 503 } })),
  ).toBe('transient');
});

test('anything else is unknown (counted, never set aside at once)', () => {
  expect(classify(new Error('bug'))).toBe('unknown');
  expect(classify(new TypeError('x is undefined'))).toBe('unknown');
  expect(classify('a string')).toBe('unknown');
  expect(classify(undefined)).toBe('unknown');
  expect(classify(null)).toBe('unknown');
});

test('a wrapper is what it wraps, to a bounded depth', () => {
  expect(classify(new Error('wrap', { cause: awsError('ThrottlingException') }))).toBe('transient');
  expect(classify(new Error('wrap', { cause: new DeterministicError('x') }))).toBe('deterministic');
  let deep: Error = awsError('ThrottlingException');
  for (let i = 0; i < 5; i++) deep = new Error('wrap', { cause: deep });
  expect(classify(deep)).toBe('transient');
  deep = new Error('wrap', { cause: deep });
  expect(classify(deep)).toBe('unknown');
});

test('named errors set their name', () => {
  expect(new DeterministicError('x').name).toBe('DeterministicError');
  expect(new TransientError('x').name).toBe('TransientError');
  expect(new TransientError('x', { cause: 1 }).cause).toBe(1);
});
