/**
 * How the re-drive (shared/failure/redrive.ts) applies a set-aside user of fraud-rules: the
 * user's purchases go through `detectFraud` itself, without the failure ledger, so the rule
 * state's watermark + eventId checks let each purchase take effect once and every alert goes
 * through the outbox.
 */
import { isPurchase } from '../shared/event.js';
import { userKey } from '../shared/failure/ledger.js';
import { type RangeRecord, toKinesisEvent } from '../shared/failure/range-source.js';
import { RedriveApplyError, type RedriveTarget } from '../shared/failure/redrive.js';
import { decodeBatch } from '../shared/kinesis.js';
import { type DetectorDeps, detectFraud } from './detector.js';

export function fraudRedriveTarget(deps: Omit<DetectorDeps, 'ledger' | 'deadline'>): RedriveTarget {
  return {
    select(entry, page) {
      const { valid } = decodeBatch(toKinesisEvent(page, entry.streamArn).Records, deps.decode);
      const keep = new Set(
        valid
          .filter((r) => isPurchase(r.event) && userKey(r.event.userId) === entry.sk)
          .map((r) => r.sequenceNumber),
      );
      return page.filter((r) => keep.has(r.sequenceNumber));
    },
    async apply(entry, records: RangeRecord[]) {
      const { response, summary } = await detectFraud(toKinesisEvent(records, entry.streamArn), {
        ...deps,
        ledger: undefined,
      });
      if (response.batchItemFailures.length > 0)
        throw new RedriveApplyError('fraud-rules', response.batchItemFailures.length);
      return { applied: summary.evaluated, unchanged: records.length - summary.evaluated };
    },
  };
}
