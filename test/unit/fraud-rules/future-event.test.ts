/**
 * Issue 8, item 1: one purchase dated a year ahead used to become the user's "newest" purchase and
 * blind every rule for that user. The shared decoder now judges event time against the record's
 * arrival time, so that record is invalid and the burst after it is evaluated normally.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRules } from '../../../services/fraud-rules/rules.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import { aPurchase, aRecord, MINUTE } from '../../helpers/records.js';
import { harness, NOW } from './support.js';

const DAY = 24 * 60 * MINUTE;
// The rules as shipped: large purchase 1000, 5 purchases in 10 min, 3000 in 60 min, country hop.
const shipped = JSON.parse(
  readFileSync(join(__dirname, '../../../services/fraud-rules/function.json'), 'utf8'),
) as { environment: { FRAUD_RULES: string } };
const rules = parseRules(JSON.parse(shipped.environment.FRAUD_RULES));

/** Six purchases of 2000 in six minutes, alternating between two countries; each arrives a second after its time. */
function burst(userId: string) {
  return Array.from({ length: 6 }, (_, i) =>
    aRecord(
      aPurchase({ userId, amount: 2000, country: i % 2 === 0 ? 'US' : 'DE', timestamp: NOW + i * MINUTE }),
    ),
  );
}

function publishedRules(h: ReturnType<typeof harness>): string[] {
  return [...new Set(h.sns.published.map((p) => p.MessageAttributes?.rule?.StringValue ?? '?'))].sort();
}

const ALL_RULES = ['countryHop', 'largePurchase', 'purchaseVelocity', 'spendVelocity'];

describe('fraud-rules: a purchase dated far ahead of its arrival', () => {
  it('without the bad event, the burst raises all four rules (the control)', async () => {
    const h = harness(rules);
    await h.run(burst('u1'));
    expect(publishedRules(h)).toEqual(ALL_RULES);
  });

  it('is an invalid record, and the burst after it still raises all four rules', async () => {
    const h = harness(rules);
    const future: PulseEvent = aPurchase({
      userId: 'u1',
      amount: 10,
      country: 'FR',
      timestamp: NOW + 365 * DAY,
    });
    const first = await h.run([aRecord(future, { arrivalMs: NOW - MINUTE })]);
    expect(first.summary).toMatchObject({ invalid: 1, purchases: 0 });
    expect(first.response.batchItemFailures).toEqual([]);

    const second = await h.run(burst('u1'));
    expect(second.response.batchItemFailures).toEqual([]);
    expect(publishedRules(h)).toEqual(ALL_RULES);
  });

  it('is invalid in the same batch as the burst too', async () => {
    const h = harness(rules);
    const future = aPurchase({ userId: 'u1', amount: 10, country: 'FR', timestamp: NOW + 365 * DAY });
    const { summary } = await h.run([aRecord(future, { arrivalMs: NOW - MINUTE }), ...burst('u1')]);
    expect(summary).toMatchObject({ invalid: 1, purchases: 6 });
    expect(publishedRules(h)).toEqual(ALL_RULES);
  });
});
