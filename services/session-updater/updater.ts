/**
 * One Lambda batch: decode and validate every record, send invalid ones to the queue, group the
 * rest by user, load all users in batched reads, apply each user's records in memory, then write
 * at most once per user (plus any sessions the batch closed).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { BatchResponse } from '../shared/batch.js';
import type { Deadline } from '../shared/deadline.js';
import { ConcurrentUpdateError } from '../shared/errors.js';
import { TransientError } from '../shared/failure/classify.js';
import { type FailureLedger, INVALID_RECORDS_KEY, userKey } from '../shared/failure/ledger.js';
import { batchRange, processPartitioned } from '../shared/failure/partitioned.js';
import { sendInvalidRecords } from '../shared/invalid-records.js';
import { type DecodeOptions, decodeBatch, type InvalidRecord, type ValidRecord } from '../shared/kinesis.js';
import type { Logger } from '../shared/logger.js';
import { compareSequence } from '../shared/sequence.js';
import { dropErased, type Tombstones } from '../shared/tombstones.js';
import { type ApplyResult, applyRecords, type SessionRules, type UserState } from './sessions.js';
import type { SessionStore } from './store.js';

/** Re-reads after a lost optimistic-lock race before the user is reported as failed. */
const MAX_CONFLICT_ATTEMPTS = 3;

export interface UpdaterDeps {
  store: SessionStore;
  sqs: Pick<SQSClient, 'send'>;
  invalidRecordsQueueUrl: string;
  functionName: string;
  rules: SessionRules;
  logger: Logger;
  /** The failure ledger (absent in the re-drive itself and unit tests of other paths: every failure waits). */
  ledger?: FailureLedger;
  /** MAX_EVENT_AHEAD_SECONDS and friends; the shared default when absent. */
  decode?: DecodeOptions;
  /** When set, no user starts with less than its margin left (see shared/deadline.ts). */
  deadline?: Deadline;
  /** Erased users, whose records are dropped (services/shared/tombstones.ts). */
  tombstones?: Tombstones;
  /** A shard's parents (a reshard), so a user set aside there stays set aside here. */
  ancestors?: (streamArn: string, shardId: string) => Promise<string[]>;
}

export interface BatchSummary {
  records: number;
  invalid: number;
  users: number;
  /** Set-aside users whose records were added to their ledger entry for the re-drive. */
  parkedUsers: number;
  /** Users this batch set aside (failed deterministically). */
  setAsideUsers?: number;
  applied: number;
  duplicates: number;
  sessionsClosed: number;
  failedUsers: number;
  /** Users the shard waits for because the invocation was running out of time. */
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
  const summary: BatchSummary = {
    records: event.Records.length,
    invalid: invalid.length,
    users: 0,
    parkedUsers: 0,
    applied: 0,
    duplicates: 0,
    sessionsClosed: 0,
    failedUsers: 0,
    deferredUsers: 0,
  };
  for (const record of invalid) {
    deps.logger.warn('invalid record', {
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      reason: record.reason,
    });
  }
  type Item = ValidRecord | InvalidRecord;
  const isValid = (r: Item): r is ValidRecord => 'event' in r;
  const planned = new Map<string, { records: ValidRecord[]; result: ApplyResult }>();
  let unsavedClosed = new Set<string>();
  const { response, outcome } = await processPartitioned<Item>({
    ledger: deps.ledger,
    batch: batchRange(event.Records),
    records: [...valid, ...invalid].sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber)),
    keyOf: (r) => (isValid(r) ? userKey(r.event.userId) : INVALID_RECORDS_KEY),
    ancestors: deps.ancestors,
    deadline: deps.deadline,
    logger: deps.logger,
    // All users are read in batched reads and computed first, so the closed sessions of the
    // whole batch go out in shared BatchWriteItem requests before the per-user conditional writes.
    async prepare(partitions) {
      const users = partitions.filter((p) => p.key !== INVALID_RECORDS_KEY);
      const states = await deps.store.loadUsers(users.map((p) => (p.records[0] as ValidRecord).event.userId));
      for (const p of users) {
        const records = p.records as ValidRecord[];
        const userId = (records[0] as ValidRecord).event.userId;
        planned.set(p.key, {
          records,
          result: applyRecords(states.get(userId) as UserState, records, deps.rules),
        });
      }
      // Closed sessions are written unconditionally, before the CURRENT write that could reject stale
      // state: one computed from a stale (eventually consistent) read would stay behind as a wrong
      // item. So users whose batch closes a session are re-read strongly first (once per session).
      const closing = [...planned.values()].filter(({ result }) => result.closed.length > 0);
      if (closing.length > 0) {
        const fresh = await deps.store.loadUsers(
          closing.map(({ result }) => result.state.userId),
          true,
        );
        for (const plan of closing)
          plan.result = applyRecords(
            fresh.get(plan.result.state.userId) as UserState,
            plan.records,
            deps.rules,
          );
      }
      unsavedClosed = await deps.store.saveClosedSessions(
        [...planned.values()].flatMap(({ result }) =>
          result.closed.map((session) => ({ userId: result.state.userId, session })),
        ),
      );
    },
    async apply(p) {
      if (p.key === INVALID_RECORDS_KEY) {
        const unsent = await sendInvalidRecords(p.records as InvalidRecord[], {
          sqs: deps.sqs,
          queueUrl: deps.invalidRecordsQueueUrl,
          functionName: deps.functionName,
          streamArn,
          logger: deps.logger,
        });
        if (unsent.length > 0) throw new TransientError(`${unsent.length} invalid record(s) not queued`);
        return;
      }
      const plan = planned.get(p.key) as { records: ValidRecord[]; result: ApplyResult };
      if (unsavedClosed.has(plan.result.state.userId))
        throw new TransientError('closed sessions could not be written');
      try {
        await saveUser(plan.result, plan.records, deps, summary);
      } catch (err) {
        summary.failedUsers += 1;
        deps.logger.error('user update failed', { userId: plan.result.state.userId, error: err });
        throw err;
      }
    },
  });
  summary.users = planned.size;
  summary.parkedUsers = outcome.held;
  summary.deferredUsers = outcome.deferred;
  summary.setAsideUsers = outcome.setAside;
  return { response, summary };
}

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
        if (failed.size > 0) throw new TransientError('closed sessions could not be written');
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
