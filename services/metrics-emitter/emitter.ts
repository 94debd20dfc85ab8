/**
 * PutMetricData in order, at most 1000 datums and about 1 MB per request. Requests go one after
 * another so that, when one fails, everything before it is known to be in CloudWatch and nothing
 * after it has been sent.
 */
import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { MAX_DATUMS_PER_REQUEST, MAX_REQUEST_BYTES } from './windows.js';

/** A PutMetricData request failed; `sentDatums` datums (a prefix of the input) went out before it. */
export class MetricEmissionError extends Error {
  constructor(
    readonly sentDatums: number,
    options?: { cause?: unknown },
  ) {
    super(`PutMetricData failed after ${sentDatums} datums were sent`, options);
    this.name = 'MetricEmissionError';
  }
}

/** Serialised size of a datum, close to what the JSON protocol sends. */
export function datumBytes(datum: MetricDatum): number {
  return JSON.stringify(datum).length + 16;
}

/** Splits datums into requests of at most `maxDatums` datums and `maxBytes` bytes, keeping order. */
export function planRequests(
  datums: readonly MetricDatum[],
  maxDatums = MAX_DATUMS_PER_REQUEST,
  maxBytes = MAX_REQUEST_BYTES,
): MetricDatum[][] {
  const requests: MetricDatum[][] = [];
  let current: MetricDatum[] = [];
  let bytes = 0;
  for (const datum of datums) {
    const size = datumBytes(datum);
    if (current.length > 0 && (current.length >= maxDatums || bytes + size > maxBytes)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(datum);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/**
 * Sends every datum; returns the number of requests made. Throws MetricEmissionError on failure.
 * `bytesBound`, when the caller knows one (a segment's), spares serialising every datum to size
 * the requests: datums that fit one request by it go as one.
 */
export async function putMetricData(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  namespace: string,
  datums: readonly MetricDatum[],
  bytesBound?: number,
): Promise<number> {
  const fits =
    bytesBound !== undefined && datums.length <= MAX_DATUMS_PER_REQUEST && bytesBound <= MAX_REQUEST_BYTES;
  const requests = fits ? [[...datums]] : planRequests(datums);
  let sent = 0;
  for (const MetricData of requests) {
    try {
      await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData }));
    } catch (err) {
      throw new MetricEmissionError(sent, { cause: err });
    }
    sent += MetricData.length;
  }
  return requests.length;
}
