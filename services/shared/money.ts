/**
 * Exact money. An event's `amount` is a decimal number in major units of its currency with at
 * most MONEY_SCALE (6) decimal places; inside Pulse it becomes an integer count of micro-units
 * (1 USD = 1,000,000 micros). One scale for every currency keeps the schema simple: ISO 4217
 * minor units go up to 4 decimals (CLF, UYW), so 6 holds all of them exactly, and crypto-like
 * prices below a cent still add up.
 *
 * A single amount (at most MAX_AMOUNT = 1e9 units, 1e15 micros) is a safe JS integer, so events
 * and per-purchase state keep plain numbers. Totals can pass 2^53 (nine purchases of the maximum
 * already do), and the DynamoDB document client refuses such numbers, so totals are summed as
 * BigInt and stored as decimal strings of micros: exact, and no total can ever make a write fail.
 * Totals are always per currency; nothing in Pulse adds two currencies together.
 */

export const MONEY_SCALE = 6;
export const MICROS_PER_UNIT = 1_000_000;

/** Micro-units of an amount; exact for any amount the schema accepts (see hasMoneyScale). */
export function toMicros(amount: number): number {
  return Math.round(amount * MICROS_PER_UNIT);
}

/**
 * True when the number is a decimal with at most 6 places: its micro-units divided back give the
 * very same double (a number with a 7th significant decimal does not round-trip).
 */
export function hasMoneyScale(amount: number): boolean {
  return Number.isFinite(amount) && toMicros(amount) / MICROS_PER_UNIT === amount;
}

/** A per-currency total: ISO 4217 code → integer micros as a decimal string. */
export type MoneyTotals = Record<string, string>;

/** Adds micros to a currency's total in place (BigInt: exact beyond 2^53). */
export function addMicros(totals: MoneyTotals, currency: string, micros: number | bigint): void {
  totals[currency] = (BigInt(totals[currency] ?? '0') + BigInt(micros)).toString();
}

/** The exact decimal of a micros amount, e.g. 3705000n → "3.705", 4000000 → "4". */
export function microsToDecimal(micros: number | bigint | string): string {
  const value = BigInt(micros);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const units = abs / BigInt(MICROS_PER_UNIT);
  const fraction = (abs % BigInt(MICROS_PER_UNIT)).toString().padStart(MONEY_SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${units}${fraction ? `.${fraction}` : ''}`;
}

/**
 * The nearest double to an exact micros amount, rounded once (what CloudWatch and charts take).
 * Going through the decimal string means one correctly rounded conversion, not a division of two
 * already rounded numbers.
 */
export function microsToNumber(micros: number | bigint | string): number {
  return Number(microsToDecimal(micros));
}

/** For people: every currency's total, e.g. "1,234.50 EUR, 10.005 USD" ("none" when empty). */
export function formatTotals(totals: MoneyTotals): string {
  const entries = Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? 'none' : entries.map(([c, m]) => `${formatMicros(m)} ${c}`).join(', ');
}

/** For people: grouped, at least 2 decimals, every significant micro kept ("1,234.005", "4.00"). */
export function formatMicros(micros: number | bigint | string): string {
  const [units = '0', fraction = ''] = microsToDecimal(micros).split('.');
  const negative = units.startsWith('-');
  const digits = negative ? units.slice(1) : units;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}.${fraction.padEnd(2, '0')}`;
}
