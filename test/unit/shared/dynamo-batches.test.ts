/**
 * Batched reads and writes: every key read and every item written once, unprocessed ones retried,
 * and a call's batch requests sent side by side rather than one round trip after another.
 */
import { batchGetItems, batchPutItems } from '../../../services/shared/dynamo.js';

type Item = Record<string, unknown>;
interface Command {
  constructor: { name: string };
  input: { RequestItems: Record<string, { Keys?: Item[] } | Array<{ PutRequest: { Item: Item } }>> };
}

/** A table that answers after a turn of the event loop and remembers how many requests overlapped. */
function aTable(unprocessedOnce = false) {
  const items = new Map<string, Item>();
  let inFlight = 0;
  const seen = { requests: 0, mostInFlight: 0 };
  let leftOver = unprocessedOnce;
  const send = async (command: Command) => {
    seen.requests += 1;
    inFlight += 1;
    seen.mostInFlight = Math.max(seen.mostInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight -= 1;
    const request = command.input.RequestItems.t;
    if (command.constructor.name === 'BatchWriteCommand') {
      const puts = request as Array<{ PutRequest: { Item: Item } }>;
      const [first, ...rest] = puts;
      const written = leftOver ? rest : puts;
      for (const r of written) items.set(String(r.PutRequest.Item.id), r.PutRequest.Item);
      const unprocessed = leftOver && first ? [first] : [];
      leftOver = false;
      return { UnprocessedItems: unprocessed.length > 0 ? { t: unprocessed } : {} };
    }
    const keys = (request as { Keys: Item[] }).Keys;
    return { Responses: { t: keys.map((k) => items.get(String(k.id))).filter(Boolean) } };
  };
  return { db: { send } as never, items, seen };
}

const noSleep = async () => undefined;
const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, value: i }));

describe('batched DynamoDB calls', () => {
  it('writes every item once, retrying what was left unprocessed, several requests at a time', async () => {
    const table = aTable(true);
    const unwritten = await batchPutItems(table.db, 't', ids(333), noSleep);
    expect(unwritten).toEqual([]);
    expect([...table.items.keys()].sort()).toEqual(
      ids(333)
        .map((i) => i.id)
        .sort(),
    );
    expect(table.seen.requests).toBe(Math.ceil(333 / 25) + 1);
    expect(table.seen.mostInFlight).toBeGreaterThan(1);
  });

  it('reads every key of many groups, several requests at a time', async () => {
    const table = aTable();
    await batchPutItems(table.db, 't', ids(333), noSleep);
    const reads = aTable();
    for (const [k, v] of table.items) reads.items.set(k, v);
    const found = await batchGetItems(
      reads.db,
      't',
      [...ids(333).map(({ id }) => ({ id })), { id: 'absent' }],
      noSleep,
    );
    expect(found.map((i) => i.id).sort()).toEqual(
      ids(333)
        .map((i) => i.id)
        .sort(),
    );
    expect(reads.seen.requests).toBe(Math.ceil(334 / 100));
    expect(reads.seen.mostInFlight).toBeGreaterThan(1);
  });
});
