/** Sends generated traffic on its schedule through the producer library, reporting progress. */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type FailedRecord, publishBatch } from '../../services/producer/index.js';
import type { PulseEvent } from '../../services/shared/event.js';

export interface SendResult {
  sent: number;
  failed: FailedRecord[];
  requests: number;
  seconds: number;
  /** Events per second achieved. */
  rate: number;
}

export async function sendTraffic(
  events: readonly PulseEvent[],
  schedule: readonly number[],
  options: {
    kinesis: KinesisClient;
    stream: string;
    tickMs?: number;
    maxAttempts?: number;
    onProgress?: (sent: number, failed: number, total: number) => void;
    signal?: AbortSignal;
  },
): Promise<SendResult> {
  const started = Date.now();
  const tick = options.tickMs ?? 200;
  let next = 0;
  let sent = 0;
  let requests = 0;
  const failed: FailedRecord[] = [];
  while (next < events.length && !options.signal?.aborted) {
    const due = Date.now() - started;
    let end = next;
    while (end < events.length && schedule[end]! <= due) end += 1;
    if (end === next) {
      await new Promise((r) => setTimeout(r, Math.min(tick, schedule[next]! - due)));
      continue;
    }
    const result = await publishBatch(events.slice(next, end), {
      kinesis: options.kinesis,
      stream: options.stream,
      maxAttempts: options.maxAttempts ?? 8,
    });
    sent += result.sent;
    requests += result.requests;
    failed.push(...result.failed);
    next = end;
    options.onProgress?.(sent, failed.length, events.length);
  }
  const seconds = (Date.now() - started) / 1000;
  return { sent, failed, requests, seconds, rate: seconds > 0 ? sent / seconds : sent };
}
