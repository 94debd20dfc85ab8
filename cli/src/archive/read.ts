/**
 * The archive as the CLI reaches it: the bucket of an environment (local: the local stack's; a
 * deployed one: --bucket or $PULSE_ARCHIVE_BUCKET, the `archive.bucket` Terraform output) and the
 * events of a time range or of one user, each once, in stream order.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_REGION } from '../../../lib/aws.js';
import { physicalName } from '../../../lib/config.js';
import { hourPrefixes } from '../../../services/shared/archive/layout.js';
import { ArchiveStore, dedupeEvents } from '../../../services/shared/archive/store.js';
import type { ValidRecord } from '../../../services/shared/kinesis.js';
import { type CliIO, UsageError } from '../command.js';
import type { EnvName } from '../environments.js';
import { localEndpoints } from '../target.js';

export interface ArchiveAccess {
  store: ArchiveStore;
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
  return { store: new ArchiveStore({ s3, bucket }), close: () => s3.destroy() };
}

/** The archive when its bucket is known (always locally; --bucket or $PULSE_ARCHIVE_BUCKET otherwise). */
export function archiveStoreFor(env: EnvName, io: CliIO): ArchiveStore | undefined {
  if (env !== 'local' && !io.env.PULSE_ARCHIVE_BUCKET) return undefined;
  try {
    return archiveAccess(env, io, undefined).store;
  } catch {
    // No local stack to reach (the stream source alone then, as before the archive).
    return undefined;
  }
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
