/**
 * The local SQL engine: DuckDB over archive files copied to a folder (DuckDB's S3 support is an
 * extension it downloads at run time, which an offline machine cannot; the copy reads the same
 * objects through the SDK instead). The saved queries are the files Athena gets
 * (services/schema/queries), with `${events}` bound to a view over the copied Parquet.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { EVENT_COLUMNS, INVALID_COLUMNS } from '../services/shared/archive/columns.js';
import { hourPrefixes } from '../services/shared/archive/layout.js';
import type { ArchiveStore } from '../services/shared/archive/store.js';
import { repoRoot } from './paths.js';

export const QUERIES_DIR = join(repoRoot(), 'services', 'schema', 'queries');

export function savedQueryNames(): string[] {
  return readdirSync(QUERIES_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function savedQuery(name: string): string {
  return readFileSync(join(QUERIES_DIR, `${name}.sql`), 'utf8');
}

const DUCK_TYPE = { STRING: 'VARCHAR', INT32: 'INTEGER', TIMESTAMP: 'TIMESTAMP' } as const;
const HIVE_TYPES = "{'ub': INTEGER, 'dt': VARCHAR, 'hr': INTEGER}";

function view(name: string, dir: string, columns: typeof EVENT_COLUMNS): string {
  const glob = join(dir, name, '**', '*.parquet');
  const hasFiles = existsSync(join(dir, name));
  if (hasFiles) {
    return `CREATE VIEW ${name} AS SELECT * FROM read_parquet('${glob.replaceAll("'", "''")}', hive_partitioning = true, hive_types = ${HIVE_TYPES})`;
  }
  // No file yet: an empty table with the same columns, so every query still runs.
  const cols = columns.map((c) => `${c.name} ${DUCK_TYPE[c.parquet]}`).join(', ');
  return `CREATE TABLE ${name} (${cols}, ub INTEGER, dt VARCHAR, hr INTEGER)`;
}

export type Row = Record<string, unknown>;

/** Runs `sql` (with `${events}` and `${invalid}` as the tables) over the archive copied to `dir`. */
export async function runSql(dir: string, sql: string, params: readonly DuckDBValue[] = []): Promise<Row[]> {
  // Loaded on use: the native engine is only needed when a query runs (not for --help or replay).
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(view('events', dir, EVENT_COLUMNS));
    await connection.run(view('invalid', dir, INVALID_COLUMNS));
    // The placeholders Terraform's templatefile fills with the Glue table names.
    const text = sql.replace(/\$\{(events|invalid)\}/g, '$1');
    const reader = await connection.runAndReadAll(text, [...params]);
    return reader.getRowObjectsJson() as Row[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Copies the archive files of a time range (events and invalid) into `dir`, keeping their keys,
 * so the engine reads them as hive-partitioned Parquet. Returns how many files and bytes.
 */
export async function downloadRange(
  store: ArchiveStore,
  fromMs: number,
  toMs: number,
  dir: string,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const kind of ['events', 'invalid'] as const) {
    for (const prefix of hourPrefixes(kind, fromMs, toMs)) {
      // One hour's files as one snapshot: a compaction deleting a listed part re-reads the hour.
      for (const o of await store.readFiles(prefix)) {
        const path = join(dir, o.key);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, o.bytes);
        files += 1;
        bytes += o.bytes.length;
      }
    }
  }
  return { files, bytes };
}
