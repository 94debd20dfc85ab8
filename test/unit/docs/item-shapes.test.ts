/**
 * The data model in docs/architecture.md and services/session-updater/README.md must name the
 * attributes the code writes. The review found them naming `recentEventIds` ("11-character
 * hashes") and a single `lastSequenceNumber`, while the items carry `recentEventHashes` (binary,
 * 8-byte SHA-256 prefixes; for metrics a list of hash blocks) and `watermarks` (per shard) — the
 * single watermark is exactly the cross-shard model issue 8 item 7 removed. Both directions are
 * checked: nothing documented that is not written, nothing written that is not documented.
 */
import { readFileSync } from 'node:fs';
import { newFraudState } from '../../../services/fraud-rules/rules.js';
import { stateItem } from '../../../services/fraud-rules/store.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { newUserState } from '../../../services/session-updater/sessions.js';
import { currentItem } from '../../../services/session-updater/store.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';

const architecture = readFileSync('docs/architecture.md', 'utf8');
const sessionReadme = readFileSync('services/session-updater/README.md', 'utf8');

/** Backticked camelCase names in a part of a document that are attributes the docs promise. */
const promised = (text: string, names: string[]) => names.filter((n) => text.includes(`\`${n}\``));

describe('documented item attributes exist in the written items', () => {
  it('sessions CURRENT (docs/architecture.md and the session-updater README)', () => {
    const item = currentItem(newUserState('u-1'), 0);
    const section = architecture.slice(
      architecture.indexOf('### `sessions`'),
      architecture.indexOf('### `fraud-state`'),
    );
    const table = sessionReadme.slice(
      sessionReadme.indexOf('### `sk = CURRENT`'),
      sessionReadme.indexOf('### `sk = SESSION#'),
    );
    const missing = promised(section + table, ['recentEventIds', 'lastSequenceNumber']).filter(
      (n) => !(n in item),
    );
    expect(missing).toEqual([]);
  });

  it('fraud-state (docs/architecture.md)', () => {
    const item = stateItem(newFraudState('u-1'), 0, 7);
    const section = architecture.slice(
      architecture.indexOf('### `fraud-state`'),
      architecture.indexOf('### `alerts`'),
    );
    expect(promised(section, ['recentEventIds']).filter((n) => !(n in item))).toEqual([]);
  });

  it('watermarks (docs/architecture.md): "recentEventIds (11-character hashes ...)"', async () => {
    const dynamo = new FakeDynamo({ watermarks: ['pk'] });
    const store = new WatermarkStore({ db: dynamo.asClient(), tableName: 'watermarks', now: () => 0 });
    await store.advance('fn#shardId-000000000000', '1', { lastSequenceNumber: '', version: 0, recent: [] });
    const item = dynamo.get('watermarks', { pk: 'fn#shardId-000000000000' }) ?? {};
    const section = architecture.slice(
      architecture.indexOf('### `watermarks`'),
      architecture.indexOf('### CloudWatch'),
    );
    expect(promised(section, ['recentEventIds']).filter((n) => !(n in item))).toEqual([]);
  });
});

/** Attributes of `item` (keys aside) that `text` does not name in backticks. */
const undocumented = (text: string, item: Record<string, unknown>, keys: string[]) =>
  Object.keys(item).filter((n) => !keys.includes(n) && !text.includes(`\`${n}\``));

describe('written item attributes are documented', () => {
  const between = (text: string, from: string, to: string) =>
    text.slice(text.indexOf(from), text.indexOf(to));

  it('sessions CURRENT, in docs/architecture.md and in the session-updater README', () => {
    const item = currentItem(newUserState('u-1'), 0);
    const keys = ['userId', 'sk'];
    expect(undocumented(between(architecture, '### `sessions`', '### `fraud-state`'), item, keys)).toEqual(
      [],
    );
    expect(
      undocumented(between(sessionReadme, '### `sk = CURRENT`', '### `sk = SESSION#'), item, keys),
    ).toEqual([]);
  });

  it('fraud-state, with a country kept', () => {
    const state = { ...newFraudState('u-1'), lastCountry: { country: 'FR', timestamp: 0, eventId: 'e' } };
    const item = stateItem(state, 0, 7);
    const section = between(architecture, '### `fraud-state`', '### `alerts`');
    expect(undocumented(section, item, ['userId'])).toEqual([]);
  });

  it('watermarks', async () => {
    const dynamo = new FakeDynamo({ watermarks: ['pk'] });
    const store = new WatermarkStore({ db: dynamo.asClient(), tableName: 'watermarks', now: () => 0 });
    await store.advance('fn#shardId-000000000000', '1', { lastSequenceNumber: '', version: 0, recent: [] });
    const item = dynamo.get('watermarks', { pk: 'fn#shardId-000000000000' }) ?? {};
    const section = between(architecture, '### `watermarks`', '### CloudWatch');
    expect(undocumented(section, item, ['pk'])).toEqual([]);
  });
});
