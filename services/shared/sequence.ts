/**
 * Kinesis sequence numbers are decimal strings too long for a double; they increase within a
 * shard, and child shards after a reshard start above their parents. Compare them as integers.
 */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isAfter(sequenceNumber: string, watermark: string | undefined): boolean {
  return watermark === undefined || compareSequence(sequenceNumber, watermark) > 0;
}
