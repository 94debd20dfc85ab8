/**
 * The demo's archive step: what archive-writer wrote to the local S3 during the run, read back
 * with the local SQL engine (the saved Athena query events-per-day, DuckDB over the Parquet), and
 * compared with the traffic's truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadRange, runSql, savedQuery } from '../../lib/archive-sql.js';
import type { Clients } from '../../lib/aws.js';
import { ArchiveStore } from '../../services/shared/archive/store.js';
import { paint } from '../local/demo-format.js';
import type { Traffic } from '../traffic/generator.js';

const DAY_MS = 86_400_000;

export async function printArchive(clients: Clients, bucket: string, traffic: Traffic): Promise<string[]> {
  const times = traffic.events.map((e) => e.timestamp);
  const fromMs = Math.floor(Math.min(...times) / DAY_MS) * DAY_MS;
  const toMs = Math.floor(Math.max(...times) / DAY_MS) * DAY_MS + DAY_MS;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-demo-archive-'));
  try {
    const store = new ArchiveStore({ s3: clients.s3, bucket });
    const copied = await downloadRange(store, fromMs, toMs, dir);
    const rows = await runSql(dir, savedQuery('events-per-day'), [day(fromMs), day(toMs - 1)]);
    console.log(paint.head(`Archive: s3://${bucket} (${copied.files} Parquet files, ${copied.bytes} bytes)`));
    let archived = 0;
    for (const r of rows) {
      archived += Number(r.events);
      console.log(`  ${r.day}  ${String(r.event_type).padEnd(14)} ${r.events}`);
    }
    const warnings: string[] = [];
    if (archived === traffic.truth.events) {
      console.log(`  every event archived once: ${archived} (SQL: pulse archive query events-per-day)`);
    } else {
      warnings.push(`archive holds ${archived} events, the traffic had ${traffic.truth.events}`);
      console.log(paint.warn(`  ${warnings[0]}`));
    }
    return warnings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
