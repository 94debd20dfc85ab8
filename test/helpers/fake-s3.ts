/**
 * A stand-in S3 client for unit tests: one bucket in memory, the calls the archive makes
 * (PutObject and DeleteObject with S3's If-Match / If-None-Match preconditions, GetObject,
 * ListObjectsV2 with pages, DeleteObjects). ETags are the content's MD5, quoted, as S3 gives them
 * for single-part uploads. Faults can be injected per call, and `before` runs another writer at an
 * exact point of this one (the races of concurrent compaction and erasure).
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';

const etagOf = (body: Uint8Array) => `"${createHash('md5').update(body).digest('hex')}"`;

const s3Error = (name: string, status: number, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

export class FakeS3 {
  readonly objects = new Map<string, Uint8Array>();
  puts = 0;
  gets = 0;
  /** Throw on the Nth PutObject from now (1 = the next one). */
  failPutAt?: number;
  /** Throw on the Nth DeleteObjects from now. */
  failDeleteAt?: number;
  pageSize = 1000;
  /**
   * Runs once, just before the first call the predicate accepts is carried out (then cleared): the
   * other writer's work lands between this writer's read and its write.
   */
  before?: { when: (command: string, input: Record<string, unknown>) => boolean; run: () => Promise<void> };

  asClient(): S3Client {
    return { send: (command: unknown) => this.send(command) } as unknown as S3Client;
  }

  /** Counts the fault down; true (and cleared) when it is due now. */
  private due(fault: 'failPutAt' | 'failDeleteAt'): boolean {
    const left = this[fault];
    if (left === undefined) return false;
    this[fault] = left === 1 ? undefined : left - 1;
    return left === 1;
  }

  private async send(command: unknown): Promise<unknown> {
    const name = (command as { constructor: { name: string } }).constructor.name;
    const input = (command as { input: Record<string, unknown> }).input;
    const hook = this.before;
    if (hook?.when(name, input)) {
      this.before = undefined;
      await hook.run();
    }
    switch (name) {
      case 'PutObjectCommand': {
        this.puts += 1;
        if (this.due('failPutAt')) {
          throw Object.assign(new Error('injected PutObject failure'), { name: 'InternalError' });
        }
        this.precondition(input);
        this.objects.set(input.Key as string, new Uint8Array(input.Body as Uint8Array));
        return {};
      }
      case 'GetObjectCommand': {
        this.gets += 1;
        const body = this.objects.get(input.Key as string);
        if (!body) throw s3Error('NoSuchKey', 404, 'no such key');
        return { Body: { transformToByteArray: async () => body }, ETag: etagOf(body) };
      }
      case 'DeleteObjectCommand': {
        this.precondition(input);
        this.objects.delete(input.Key as string);
        return {};
      }
      case 'ListObjectsV2Command': {
        const keys = [...this.objects.keys()].filter((k) => k.startsWith(input.Prefix as string)).sort();
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const page = keys.slice(start, start + this.pageSize);
        const more = start + this.pageSize < keys.length;
        return {
          Contents: page.map((Key) => {
            const body = this.objects.get(Key) as Uint8Array;
            return { Key, Size: body.length, ETag: etagOf(body) };
          }),
          IsTruncated: more,
          NextContinuationToken: more ? String(start + this.pageSize) : undefined,
        };
      }
      case 'DeleteObjectsCommand': {
        if (this.due('failDeleteAt')) {
          throw Object.assign(new Error('injected DeleteObjects failure'), { name: 'InternalError' });
        }
        for (const o of (input.Delete as { Objects: Array<{ Key: string }> }).Objects)
          this.objects.delete(o.Key);
        return {};
      }
      default:
        throw new Error(`FakeS3 does not model ${name}`);
    }
  }

  /** S3's answers: If-Match on a missing object is 404, on another ETag 412; If-None-Match * on an existing one 412. */
  private precondition(input: Record<string, unknown>): void {
    const body = this.objects.get(input.Key as string);
    if (input.IfMatch !== undefined) {
      if (!body) throw s3Error('NoSuchKey', 404, 'no such key');
      if (etagOf(body) !== input.IfMatch) throw s3Error('PreconditionFailed', 412, 'If-Match failed');
    }
    if (input.IfNoneMatch === '*' && body) throw s3Error('PreconditionFailed', 412, 'If-None-Match failed');
  }
}
