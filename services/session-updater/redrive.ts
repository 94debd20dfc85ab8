/**
 * How the re-drive (shared/failure/redrive.ts) applies a set-aside user of session-updater: the
 * user's records go through `updateSessions` itself, without the failure ledger, so the normal
 * watermark + eventId checks let each record take effect once.
 */
import { type FailureLedger, INVALID_RECORDS_KEY, userKey } from '../shared/failure/ledger.js';
import { type RangeRecord, toKinesisEvent } from '../shared/failure/range-source.js';
import { RedriveApplyError, type RedriveTarget } from '../shared/failure/redrive.js';
import { decodeBatch } from '../shared/kinesis.js';
import { type UpdaterDeps, updateSessions } from './updater.js';

export function sessionRedriveTarget(deps: Omit<UpdaterDeps, 'ledger' | 'deadline'>): RedriveTarget {
  return {
    select(entry, page) {
      const event = toKinesisEvent(page, entry.streamArn);
      const { valid, invalid } = decodeBatch(event.Records, deps.decode);
      const keep = new Set(
        entry.sk === INVALID_RECORDS_KEY
          ? invalid.map((r) => r.sequenceNumber)
          : valid.filter((r) => userKey(r.event.userId) === entry.sk).map((r) => r.sequenceNumber),
      );
      return page.filter((r) => keep.has(r.sequenceNumber));
    },
    async apply(entry, records: RangeRecord[]) {
      const { response, summary } = await updateSessions(toKinesisEvent(records, entry.streamArn), {
        ...deps,
        ledger: undefined as FailureLedger | undefined,
      });
      if (response.batchItemFailures.length > 0)
        throw new RedriveApplyError('session-updater', response.batchItemFailures.length);
      const applied = summary.applied + summary.invalid;
      return { applied, unchanged: records.length - applied };
    },
  };
}
