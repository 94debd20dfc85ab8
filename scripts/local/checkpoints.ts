/**
 * Per-function, per-shard checkpoints (last sequence number fully processed), persisted so a
 * restart resumes. They belong to one consumer ARN (which names the stream and the consumer's
 * creation time): checkpoints of an earlier, deleted stream are never applied to a new one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Stored {
  consumerArn: string;
  shards: Record<string, string>;
}

export class Checkpoints {
  private readonly file: string;
  private data: Stored = { consumerArn: '', shards: {} };

  constructor(dir: string, fn: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${fn}.json`);
  }

  /** Loads the checkpoints of this consumer; any for another consumer are dropped. */
  load(consumerArn: string): void {
    try {
      const stored = JSON.parse(readFileSync(this.file, 'utf8')) as Stored;
      this.data = stored.consumerArn === consumerArn ? stored : { consumerArn, shards: {} };
    } catch {
      this.data = { consumerArn, shards: {} };
    }
  }

  get(shardId: string): string | undefined {
    return this.data.shards[shardId];
  }

  set(shardId: string, sequenceNumber: string): void {
    this.data.shards[shardId] = sequenceNumber;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2));
    renameSync(tmp, this.file);
  }

  all(): Record<string, string> {
    return { ...this.data.shards };
  }
}
