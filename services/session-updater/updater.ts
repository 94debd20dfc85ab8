/**
 * One Lambda batch: decode and validate every record, send invalid ones to the queue, group the
 * rest by user, load all users in batched reads, apply each user's records in memory, then write
 * at most once per user (plus any sessions the batch closed).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { type BatchResponse, batchResponse, groupByUser, mapWithConcurrency } from '../shared/batch.js';
import { type Deadline, timeIsShort } from '../shared/deadline.js';
import { ConcurrentUpdateError } from '../shared/errors.js';
import { batchRange, type FailureLedger, gateUsers, INVALID_RECORDS_KEY } from '../shared/failure-ledger.js';
import { sendInvalidRecords } from '../shared/invalid-records.js';
import { type DecodeOptions, decodeBatch, type ValidRecord } from '../shared/kinesis.js';
import type { Logger } from '../shared/logger.js';
import { compareSequence } from '../shared/sequence.js';
import { dropErased, type Tombstones } from '../shared/tombstones.js';
import { type ApplyResult, applyRecords, type SessionRules, type UserState } from './sessions.js';
import type { SessionStore } from './store.js';

/** Re-reads after a lost optimistic-lock race before the user is reported as failed. */
const MAX_CONFLICT_ATTEMPTS = 3;
const USER_CONCURRENCY = 16;

export interface UpdaterDeps {
  store: SessionStore;
  sqs: Pick<SQSClient, 'send'>;
  invalidRecordsQueueUrl: string;
  functionName: string;
  rules: SessionRules;
  logger: Logger;
  /** What could not be applied, for `pulse replay` (optional: absent in unit tests of other paths). */
  ledger?: FailureLedger;
  /** MAX_EVENT_AHEAD_SECONDS and friends; the shared default when absent. */
  decode?: DecodeOptions;
  /** When set, no user starts with less than its margin left (see shared/deadline.ts). */
  deadline?: Deadline;
  /** Erased users, whose records are dropped (services/shared/tombstones.ts). */
  tombstones?: Tombstones;
}

export interface BatchSummary {
  records: number;
  invalid: number;
  users: number;
  /** Users whose records wait for `pulse replay` (Lambda gave up on an earlier batch of theirs). */
  parkedUsers: number;
  applied: number;
  duplicates: number;
  sessionsClosed: number;
  failedUsers: number;
  /** Users left for Lambda's retry because the invocation was running out of time. */
  deferredUsers: number;
}

export async function updateSessions(
  event: KinesisStreamEvent,
  deps: UpdaterDeps,
): Promise<{ response: BatchResponse; summary: BatchSummary }> {
  const { valid, invalid } = await dropErased(
    deps.tombstones,
    decodeBatch(event.Records, deps.decode),
    deps.logger,
  );
  const streamArn = event.Records[0]?.eventSourceARN ?? '';
  const failed: string[] = [];
  const gate = await gateUsers(deps.ledger, batchRange(event.Records), groupByUser(valid), deps.logger);
  failed.push(...gate.failed);

  if (invalid.length > 0) {
    const unsent = await sendInvalidRecords(invalid, {
      sqs: deps.sqs,
      queueUrl: deps.invalidRecordsQueueUrl,
      functionName: deps.functionName,
      streamArn,
      logger: deps.logger,
    });
    failed.push(...unsent);
    if (unsent.length > 0) await gate.userFailed(INVALID_RECORDS_KEY, unsent.reduce(minSequence));
    else if (!(await gate.userSucceeded(INVALID_RECORDS_KEY)))
      failed.push(invalid.map((r) => r.sequenceNumber).reduce(minSequence));
    for (const record of invalid) {
      deps.logger.warn('invalid record', {
        shardId: record.shardId,
        sequenceNumber: record.sequenceNumber,
        reason: record.reason,
      });
    }
  }

  const groups = gate.groups;
  const summary: BatchSummary = {
    records: event.Records.length,
    invalid: invalid.length,
    users: groups.size,
    parkedUsers: gate.parkedUsers,
    applied: 0,
    duplicates: 0,
    sessionsClosed: 0,
    failedUsers: 0,
    deferredUsers: 0,
  };
  // A user not started for lack of time is reported by their first record: Lambda retries from
  // the earliest one, and users finished meanwhile are skipped there by their watermarks.
  const defer = (records: readonly ValidRecord[]) => {
    summary.deferredUsers += 1;
    failed.push((records[0] as ValidRecord).sequenceNumber);
  };
  if (timeIsShort(deps.deadline)) {
    for (const records of groups.values()) defer(records);
    deps.logger.warn('too little time left to start; the batch is left for the retry', {
      users: groups.size,
    });
    return { response: batchResponse(failed), summary };
  }
  const states = await deps.store.loadUsers([...groups.keys()]);

  // Compute every user's new state first, so the closed sessions of the whole batch go out in
  // shared BatchWriteItem requests before the per-user conditional writes.
  const planned = [...groups].map(([userId, records]) => ({
    records,
    result: applyRecords(states.get(userId) as UserState, records, deps.rules),
  }));
  const unsavedClosed = await deps.store.saveClosedSessions(
    planned.flatMap(({ result }) =>
      result.closed.map((session) => ({ userId: result.state.userId, session })),
    ),
  );

  await mapWithConcurrency(planned, USER_CONCURRENCY, async ({ records, result }) => {
    const userId = result.state.userId;
    if (timeIsShort(deps.deadline)) {
      defer(records);
      return;
    }
    try {
      if (unsavedClosed.has(userId)) throw new Error('closed sessions could not be written');
      await saveUser(result, records, deps, summary);
    } catch (err) {
      summary.failedUsers += 1;
      failed.push((records[0] as ValidRecord).sequenceNumber);
      deps.logger.error('user update failed', { userId, error: err });
      await gate.userFailed(userId, (records[0] as ValidRecord).sequenceNumber);
      return;
    }
    if (!(await gate.userSucceeded(userId))) failed.push((records[0] as ValidRecord).sequenceNumber);
  });

  if (summary.deferredUsers > 0) {
    deps.logger.warn('running out of time: users left for the retry', { deferred: summary.deferredUsers });
  }
  return { response: batchResponse(failed), summary };
}

const minSequence = (a: string, b: string) => (compareSequence(a, b) <= 0 ? a : b);

function tally(summary: BatchSummary, result: ApplyResult): void {
  summary.applied += result.applied;
  summary.duplicates += result.duplicates;
  summary.sessionsClosed += result.closed.length;
}

/**
 * Writes a user's new state. On a lost optimistic-lock race, re-reads and recomputes: records the
 * other writer already applied fall below the new watermark and are skipped.
 */
async function saveUser(
  first: ApplyResult,
  records: ValidRecord[],
  deps: UpdaterDeps,
  summary: BatchSummary,
): Promise<void> {
  let result = first;
  for (let attempt = 1; ; attempt++) {
    if (!result.changed) {
      tally(summary, result); // Every record was applied before: a re-delivery, nothing to write.
      return;
    }
    try {
      if (attempt > 1 && result.closed.length > 0) {
        const failed = await deps.store.saveClosedSessions(
          result.closed.map((session) => ({ userId: result.state.userId, session })),
        );
        if (failed.size > 0) throw new Error('closed sessions could not be written');
      }
      await deps.store.saveUser(result.state);
      tally(summary, result);
      return;
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError) || attempt >= MAX_CONFLICT_ATTEMPTS) throw err;
      deps.logger.warn('concurrent session update, re-reading', { userId: result.state.userId, attempt });
      result = applyRecords(await deps.store.loadUser(result.state.userId), records, deps.rules);
    }
  }
}
