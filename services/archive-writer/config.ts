/** archive-writer settings, read once per cold start. */
import { decodeOptions, type Env, positiveInt, requireString } from '../shared/config.js';
import type { DecodeOptions } from '../shared/kinesis.js';

export interface ArchiveWriterConfig {
  bucket: string;
  /** An hour is compacted once it ended this long ago (records still arriving for it are rare). */
  compactGraceMs: number;
  /** How far back each compaction run looks for hours with new part files. */
  compactLookbackHours: number;
  decode: DecodeOptions;
}

export function loadConfig(env: Env): ArchiveWriterConfig {
  return {
    bucket: requireString(env, 'ARCHIVE_BUCKET'),
    compactGraceMs: positiveInt(env, 'COMPACT_GRACE_MINUTES', 15, 24 * 60) * 60_000,
    compactLookbackHours: positiveInt(env, 'COMPACT_LOOKBACK_HOURS', 48, 24 * 31),
    decode: decodeOptions(env),
  };
}
