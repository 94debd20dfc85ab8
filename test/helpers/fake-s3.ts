/**
 * A stand-in S3 client for unit tests: one bucket in memory, the four calls the archive makes
 * (PutObject, GetObject, ListObjectsV2 with pages, DeleteObjects). Faults can be injected per call.
 */
import type { S3Client } from '@aws-sdk/client-s3';

export class FakeS3 {
  readonly objects = new Map<string, Uint8Array>();
  puts = 0;
  gets = 0;
  /** Throw on the Nth PutObject from now (1 = the next one). */
  failPutAt?: number;
  /** Throw on the Nth DeleteObjects from now. */
  failDeleteAt?: number;
  pageSize = 1000;

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
    switch (name) {
      case 'PutObjectCommand': {
        this.puts += 1;
        if (this.due('failPutAt')) {
          throw Object.assign(new Error('injected PutObject failure'), { name: 'InternalError' });
        }
        this.objects.set(input.Key as string, new Uint8Array(input.Body as Uint8Array));
        return {};
      }
      case 'GetObjectCommand': {
        this.gets += 1;
        const body = this.objects.get(input.Key as string);
        if (!body) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
        return { Body: { transformToByteArray: async () => body } };
      }
      case 'ListObjectsV2Command': {
        const keys = [...this.objects.keys()].filter((k) => k.startsWith(input.Prefix as string)).sort();
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const page = keys.slice(start, start + this.pageSize);
        const more = start + this.pageSize < keys.length;
        return {
          Contents: page.map((Key) => ({ Key, Size: this.objects.get(Key)?.length })),
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
}
