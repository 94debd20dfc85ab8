/** Small formatting helpers shared by the subcommands' readable output. */

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** An instant given as epoch ms, epoch seconds or an ISO string. */
export function time(value: unknown): string {
  if (typeof value === 'number') return iso(value < 1e11 ? value * 1000 : value);
  if (typeof value === 'string' && value !== '') return value;
  return '-';
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7_200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3_600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/**
 * Money as the services keep it: per currency in micro-units (scale 6, decimal strings or
 * integers), or an older single major-unit number.
 */
export function money(spent: unknown, legacyTotal?: unknown): string {
  if (spent && typeof spent === 'object') {
    const parts = Object.entries(spent as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([currency, v]) => `${currency} ${micros(v)}`);
    return parts.length ? parts.join(', ') : '0';
  }
  if (typeof legacyTotal === 'number') return legacyTotal.toFixed(2);
  return '0';
}

function micros(v: unknown): string {
  let n: bigint;
  try {
    n = BigInt(typeof v === 'number' ? Math.trunc(v) : String(v));
  } catch {
    return String(v);
  }
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n)
    .toString()
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${negative ? '-' : ''}${whole.toLocaleString('en-US')}.${frac.padEnd(2, '0')}`;
}

/** Rows of cells as aligned columns. */
export function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map(
    (row) =>
      indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
  );
}
