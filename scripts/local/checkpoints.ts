/** Per-function, per-shard checkpoints (last sequence number fully processed), persisted so a restart resumes. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class Checkpoints {
  private readonly file: string;
  private readonly data: Record<string, string>;

  constructor(dir: string, fn: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${fn}.json`);
    try {
      this.data = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      this.data = {};
    }
  }

  get(shardId: string): string | undefined {
    return this.data[shardId];
  }

  set(shardId: string, sequenceNumber: string): void {
    this.data[shardId] = sequenceNumber;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2));
    renameSync(tmp, this.file);
  }

  all(): Record<string, string> {
    return { ...this.data };
  }
}
