/** What Lambda sends and writes: the Kinesis event, the invocation context, the on-failure record. */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import { toKinesisEvent } from '../services/shared/failure/range-source.js';

export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  /** Epoch milliseconds. */
  arrivalMs: number;
}

export interface FunctionIdentity {
  functionName: string;
  functionArn: string;
  memorySize: number;
  region: string;
  roleArn: string;
}

export function kinesisEvent(
  records: readonly StreamRecord[],
  streamArn: string,
  fn: FunctionIdentity,
): KinesisStreamEvent {
  return toKinesisEvent(records, streamArn, fn);
}

export function invocationContext(
  fn: FunctionIdentity,
  requestId: string = randomUUID(),
): Record<string, unknown> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.functionArn,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: `${day}/[$LATEST]${requestId.replaceAll('-', '')}`,
  };
}

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The invocation record Lambda sends to an event source mapping's on-failure destination for Kinesis. */
export function onFailureRecord(options: {
  records: readonly StreamRecord[];
  streamArn: string;
  fn: FunctionIdentity;
  condition: FailureCondition;
  invokeCount: number;
  functionError?: string;
  requestId?: string;
}): Record<string, unknown> {
  const first = options.records[0]!;
  const last = options.records[options.records.length - 1]!;
  return {
    requestContext: {
      requestId: options.requestId ?? randomUUID(),
      functionArn: options.fn.functionArn,
      condition: options.condition,
      approximateInvokeCount: options.invokeCount,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: options.functionError ?? 'Unhandled',
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId: first.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: options.records.length,
      streamArn: options.streamArn,
    },
  };
}
