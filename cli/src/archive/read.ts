/**
 * The archive as the CLI reaches it: the bucket of an environment (local: the local stack's; a
 * deployed one: --bucket or $PULSE_ARCHIVE_BUCKET, the `archive.bucket` Terraform output) and the
 * events of a time range or of one user, each once, in stream order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_REGION } from '../../../scripts/local/aws.js';
import { physicalName } from '../../../scripts/local/config.js';
import { hourPrefixes } from '../../../services/shared/archive/layout.js';
import { ArchiveStore, dedupeEvents } from '../../../services/shared/archive/store.js';
import type { ValidRecord } from '../../../services/shared/kinesis.js';
import { type CliIO, type EnvName, UsageError } from '../command.js';
import { localEndpoints } from '../target.js';

export interface ArchiveAccess {
  store: ArchiveStore;
  s3: S3Client;
  close(): void;
}

export function archiveAccess(env: EnvName, io: CliIO, bucketFlag: string | undefined): ArchiveAccess {
  const bucket =
    bucketFlag ??
    io.env.PULSE_ARCHIVE_BUCKET ??
    (env === 'local' ? physicalName('local', 'archive') : undefined);
  if (!bucket) {
    throw new UsageError(
      `--bucket is required for --env ${env} (the archive.bucket output of terraform), or set PULSE_ARCHIVE_BUCKET`,
    );
  }
  const s3 =
    env === 'local'
      ? new S3Client({
          region: io.env.AWS_REGION ?? LOCAL_REGION,
          endpoint: localEndpoints(io.env).default,
          forcePathStyle: true,
          credentials: {
            accessKeyId: io.env.AWS_ACCESS_KEY_ID ?? 'test',
            secretAccessKey: io.env.AWS_SECRET_ACCESS_KEY ?? 'test',
          },
        })
      : new S3Client({ maxAttempts: 5, retryMode: 'adaptive' });
  return { store: new ArchiveStore({ s3, bucket }), s3, close: () => s3.destroy() };
}

export interface RangeQuery {
  fromMs: number;
  toMs: number;
  userId?: string;
}

/** Events with fromMs <= event time < toMs (of one user when given), each once, in stream order. */
export async function readArchivedEvents(store: ArchiveStore, q: RangeQuery): Promise<ValidRecord[]> {
  const out: ValidRecord[] = [];
  for (const prefix of hourPrefixes('events', q.fromMs, q.toMs, q.userId)) {
    const { records } = await store.readPartitionEvents(prefix);
    for (const r of records) {
      if (r.event.timestamp < q.fromMs || r.event.timestamp >= q.toMs) continue;
      if (q.userId !== undefined && r.event.userId !== q.userId) continue;
      out.push(r);
    }
  }
  return dedupeEvents(out);
}

/**
 * Copies the archive files of a time range (all kinds) into `dir`, keeping their keys, so a local
 * SQL engine reads them as hive-partitioned Parquet. Returns how many files and bytes.
 */
export async function downloadRange(
  store: ArchiveStore,
  s3: S3Client,
  fromMs: number,
  toMs: number,
  dir: string,
): Promise<{ files: number; bytes: number }> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let files = 0;
  let bytes = 0;
  for (const kind of ['events', 'invalid'] as const) {
    for (const prefix of hourPrefixes(kind, fromMs, toMs)) {
      for (const o of await store.list(prefix)) {
        const { Body } = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: o.key }));
        const body = await Body?.transformToByteArray();
        if (!body) continue;
        const path = join(dir, o.key);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, body);
        files += 1;
        bytes += body.length;
      }
    }
  }
  return { files, bytes };
}
