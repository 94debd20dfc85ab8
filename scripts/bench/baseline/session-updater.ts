/**
 * BASELINE, not production code: the seed design's session-updater, implemented faithfully so the
 * benchmark can measure what Pulse replaces. Per record, in order:
 *
 *   GetItem(userId) → append the whole event to the session's `events` list → PutItem(whole item)
 *
 * No batching, no condition (a concurrent writer's update is lost), no idempotency (a re-delivered
 * record is appended again), and the events list is never trimmed: the item grows with every event
 * until DynamoDB rejects it at 400 KB. A new session (30 minutes of inactivity) overwrites the old
 * one in the same item, so history is lost.
 */

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { PulseEvent } from '../../../services/shared/event.js';
import { decodeSeedRecord } from './decode.js';

export const SEED_SESSION_TIMEOUT_MS = 30 * 60_000;

export interface SeedSession {
  userId: string;
  sessionId: string;
  startedAt: number;
  lastActivity: number;
  eventCount: number;
  totalSpent: number;
  events: PulseEvent[];
}

export interface SeedDb {
  send(command: GetCommand | PutCommand): Promise<{ Item?: Record<string, unknown> }>;
}

/** The seed's state transition (pure): also used to compute item sizes without the emulator. */
export function appendEvent(current: SeedSession | undefined, event: PulseEvent): SeedSession {
  const expired = current && event.timestamp - current.lastActivity > SEED_SESSION_TIMEOUT_MS;
  const session: SeedSession =
    !current || expired
      ? {
          userId: event.userId,
          sessionId: event.eventId,
          startedAt: event.timestamp,
          lastActivity: event.timestamp,
          eventCount: 0,
          totalSpent: 0,
          events: [],
        }
      : current;
  session.events.push(event);
  session.eventCount += 1;
  session.lastActivity = Math.max(session.lastActivity, event.timestamp);
  if (event.eventType === 'purchase') session.totalSpent += Number(event.data.amount);
  return session;
}

export interface SeedResult {
  processed: number;
  /** Records whose write failed (e.g. item over 400 KB); the seed would fail the whole batch. */
  failedWrites: number;
}

export async function seedUpdateSessions(
  event: KinesisStreamEvent,
  deps: { db: SeedDb; tableName: string },
): Promise<SeedResult> {
  let processed = 0;
  let failedWrites = 0;
  for (const record of event.Records) {
    const parsed = decodeSeedRecord(record);
    if (!parsed) continue;
    const out = await deps.db.send(
      new GetCommand({ TableName: deps.tableName, Key: { userId: parsed.userId } }),
    );
    const session = appendEvent(out.Item as SeedSession | undefined, parsed);
    try {
      await deps.db.send(new PutCommand({ TableName: deps.tableName, Item: session }));
    } catch {
      failedWrites += 1;
    }
    processed += 1;
  }
  return { processed, failedWrites };
}
