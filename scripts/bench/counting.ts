/**
 * Counts the requests an SDK client really sends, per service and command, with a middleware on
 * the client's stack. It sits in the deserialize step, inside the retry middleware, so every HTTP
 * attempt is counted (retries included). A DynamoDBDocumentClient shares its inner client's
 * stack, so document commands are counted under their low-level names (PutItem, BatchGetItem...).
 *
 * It also prices what it sees. DynamoDB units come from the exact items written and read, by the
 * shared calculator (services/shared/capacity.ts): moto answers ReturnConsumedCapacity with a fixed
 * figure per call (1.0 for PutItem, one per key for BatchGetItem) whatever the item size, so its
 * figure cannot show what item size costs. A shadow of the last written size per key gives the
 * "larger of old and new item" rule for replacing puts and updates. CloudWatch metric identities
 * (namespace, name, dimensions), SNS publishes and SQS messages are kept for the cost report.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  attributeMapBytes,
  attributeValueBytes,
  type ReadConsistency,
  readUnits,
  writeUnits,
} from '../../services/shared/capacity.js';
import { itemBytes } from '../../services/shared/item-size.js';

type Next = (args: unknown) => Promise<unknown>;

interface StackClient {
  middlewareStack: {
    add(
      middleware: (next: Next, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'deserialize'; priority?: 'high'; name: string; override?: boolean },
    ): void;
  };
}

type Item = Record<string, AttributeValue>;

const WIRE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'L', 'M', 'SS', 'NS', 'BS']);

/**
 * Size of an item seen by the middleware. Inputs arrive in wire form ({S: ...}); outputs may
 * already be plain (the document client unmarshalls them before this middleware sees them).
 */
function anyItemBytes(item: Record<string, unknown>): number {
  const wire = Object.values(item).every((v) => {
    if (typeof v !== 'object' || v === null) return false;
    const keys = Object.keys(v);
    return keys.length === 1 && WIRE_TYPES.has(keys[0] as string);
  });
  return wire ? attributeMapBytes(item as Item) : itemBytes(item);
}
// biome-ignore lint/suspicious/noExplicitAny: the low-level input/output shapes of many commands
type Loose = any;

/** What the captured requests cost, in billing units (per table for DynamoDB). */
export interface CostTally {
  readUnits: number;
  writeUnits: number;
  /** Bytes of every item written and read, for the average item size. */
  itemsWritten: number;
  bytesWritten: number;
  putMetricDataRequests: number;
  /** `namespace|name|dim=value,...` of every datum sent. */
  metrics: Set<string>;
  snsPublishes: number;
  sqsMessages: number;
  /** SQS bills each 64 KB chunk of a request as one request. */
  sqsBilledRequests: number;
  /**
   * Write units of the global secondary indexes (projection ALL), per index: a write that puts an
   * item in a sparse index, changes it there or takes it out is one write of the item's size there;
   * one that changes the item's key in the index is two (DynamoDB deletes and puts the index entry).
   */
  indexWriteUnits: number;
  /**
   * Bytes × days until their TTL of items first written with one (closed sessions, alerts): what
   * storage keeps. A rewrite of an existing key (per-user state) adds nothing.
   */
  storedByteDays: number;
}

export const emptyTally = (): CostTally => ({
  readUnits: 0,
  writeUnits: 0,
  itemsWritten: 0,
  bytesWritten: 0,
  putMetricDataRequests: 0,
  metrics: new Set(),
  snsPublishes: 0,
  sqsMessages: 0,
  sqsBilledRequests: 0,
  indexWriteUnits: 0,
  storedByteDays: 0,
});

const SQS_CHUNK_BYTES = 64 * 1024;

/** A global secondary index: its name and key attributes (an item without all of them is not in it). */
export interface IndexKeys {
  name: string;
  keys: string[];
}

export class RequestCounter {
  private counts = new Map<string, number>();
  tally: CostTally = emptyTally();
  /** Key attribute names per physical table, so a put's key can be found in its item. */
  private keySchemas = new Map<string, string[]>();
  /** Last written size per table + key: DynamoDB bills a replacing write at the larger size. */
  private shadow = new Map<string, number>();

  /** The key attributes of each of a table's sparse indexes, and its TTL attribute. */
  private indexes = new Map<string, IndexKeys[]>();
  private ttlAttributes = new Map<string, string>();
  /** Per table + key: the indexes the item is in now. */
  private inIndex = new Map<string, ReadonlySet<string>>();

  setKeySchema(table: string, keyNames: string[], extra: { indexes?: IndexKeys[]; ttl?: string } = {}): void {
    this.keySchemas.set(table, keyNames);
    if (extra.indexes && extra.indexes.length > 0) this.indexes.set(table, extra.indexes);
    if (extra.ttl) this.ttlAttributes.set(table, extra.ttl);
  }

  /**
   * Index writes of one table write: `after` names the indexes the item is in afterwards, `rekeyed`
   * those whose key attributes the write sets (an entry that stays but moves costs two writes).
   */
  private indexWrite(
    table: string,
    k: string | undefined,
    bytes: number,
    after: ReadonlySet<string>,
    rekeyed: ReadonlySet<string>,
    applied: boolean,
  ) {
    const before = (k && this.inIndex.get(k)) || new Set<string>();
    for (const { name } of this.indexes.get(table) ?? []) {
      const writes =
        before.has(name) && after.has(name) && rekeyed.has(name) ? 2 : +(before.has(name) || after.has(name));
      this.tally.indexWriteUnits += writes * writeUnits(bytes);
    }
    if (k && applied) this.inIndex.set(k, after);
  }

  attach(client: unknown, service: string): void {
    (client as StackClient).middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const key = `${service}:${command}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        const input = (args as { input?: Loose }).input ?? {};
        if (service !== 'dynamodb') {
          this.priceOther(service, command, input);
          return next(args);
        }
        let result: unknown;
        try {
          result = await next(args);
        } catch (err) {
          // A failed condition still consumes the write; other failures are retried and counted then.
          if ((err as { name?: string }).name === 'ConditionalCheckFailedException')
            this.priceDynamo(command, input, undefined, false);
          throw err;
        }
        this.priceDynamo(command, input, (result as { output?: Loose }).output ?? {}, true);
        return result;
      },
      // High priority: outside the deserializer, so the parsed output (the items read) is visible.
      { step: 'deserialize', priority: 'high', name: 'pulseBenchRequestCounter', override: true },
    );
  }

  private shadowKey(table: string, item: Item): string | undefined {
    const names = this.keySchemas.get(table);
    if (!names) return undefined;
    return `${table}\u0000${names.map((n) => JSON.stringify(item[n] ?? null)).join('\u0000')}`;
  }

  private write(
    table: string,
    item: Item,
    applied: boolean,
    options: { transactional?: boolean } = {},
  ): void {
    const bytes = anyItemBytes(item);
    const k = this.shadowKey(table, item);
    const previous = k ? (this.shadow.get(k) ?? 0) : 0;
    this.tally.writeUnits += writeUnits(Math.max(bytes, previous), options);
    this.tally.itemsWritten += 1;
    this.tally.bytesWritten += bytes;
    const ttl = this.ttlAttributes.get(table);
    const expires = ttl ? (item[ttl] as Loose) : undefined;
    if (expires !== undefined && applied && previous === 0) {
      const seconds = Number(typeof expires === 'object' ? expires.N : expires);
      this.tally.storedByteDays += bytes * Math.max(0, (seconds - Date.now() / 1000) / 86_400);
    }
    const indexes = this.indexes.get(table) ?? [];
    if (indexes.length > 0) {
      const holding = new Set(
        indexes.filter((i) => i.keys.every((n) => item[n] !== undefined)).map((i) => i.name),
      );
      // A put replaces the whole item: where it stays in an index, its key there may have changed.
      this.indexWrite(table, k, bytes, holding, holding, applied);
    }
    if (k && applied) this.shadow.set(k, bytes);
  }

  private priceDynamo(command: string, input: Loose, output: Loose, applied: boolean): void {
    const consistency = (consistent: unknown): ReadConsistency => (consistent ? 'strong' : 'eventual');
    switch (command) {
      case 'PutItem':
        this.write(input.TableName, input.Item, applied);
        return;
      case 'UpdateItem':
      case 'DeleteItem': {
        // The item after an update is about the old one plus the values set; a delete costs the old size.
        const k = this.shadowKey(input.TableName, input.Key);
        const before = (k && this.shadow.get(k)) || anyItemBytes(input.Key);
        let after = before;
        if (command === 'UpdateItem') {
          for (const [name, value] of Object.entries((input.ExpressionAttributeValues ?? {}) as Item))
            after += name.length + attributeValueBytes(value);
        }
        this.tally.writeUnits += writeUnits(Math.max(before, after));
        const indexes = this.indexes.get(input.TableName) ?? [];
        if (indexes.length > 0) {
          // Which index key attributes the update sets or removes (names may be #placeholders).
          const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
          const expression = String(input.UpdateExpression ?? '').replace(/#\w+/g, (n) => names[n] ?? n);
          const [setPart = '', removePart = ''] = expression.split(/\bREMOVE\b/);
          const removes = (i: IndexKeys) => i.keys.some((key) => new RegExp(`\\b${key}\\b`).test(removePart));
          const sets = (i: IndexKeys) => i.keys.some((key) => new RegExp(`\\b${key}\\s*=`).test(setPart));
          const was = (k && this.inIndex.get(k)) || new Set<string>();
          // An update can only add an item to an index by setting its key (the other key
          // attributes, createdAt here, are on every item); a delete takes it out of all.
          const now = new Set(
            command === 'DeleteItem'
              ? []
              : indexes.filter((i) => (was.has(i.name) && !removes(i)) || sets(i)).map((i) => i.name),
          );
          const rekeyed = new Set(indexes.filter(sets).map((i) => i.name));
          this.indexWrite(input.TableName, k, Math.max(before, after), now, rekeyed, applied);
        }
        if (k && applied) this.shadow.set(k, command === 'DeleteItem' ? 0 : after);
        return;
      }
      case 'BatchWriteItem':
        for (const [table, requests] of Object.entries(input.RequestItems ?? {}) as [string, Loose[]][]) {
          for (const r of requests) {
            if (r.PutRequest) this.write(table, r.PutRequest.Item, applied);
            else if (r.DeleteRequest) this.tally.writeUnits += writeUnits(0);
          }
        }
        return;
      case 'TransactWriteItems':
        for (const t of input.TransactItems ?? []) {
          if (t.Put) this.write(t.Put.TableName, t.Put.Item, applied, { transactional: true });
          else this.tally.writeUnits += writeUnits(0, { transactional: true });
        }
        return;
      case 'GetItem':
        this.tally.readUnits += readUnits(
          output?.Item ? anyItemBytes(output.Item) : 0,
          consistency(input.ConsistentRead),
        );
        return;
      case 'BatchGetItem':
        for (const [table, request] of Object.entries(input.RequestItems ?? {}) as [string, Loose][]) {
          const found: Record<string, unknown>[] = output?.Responses?.[table] ?? [];
          const unprocessed = output?.UnprocessedKeys?.[table]?.Keys?.length ?? 0;
          const c = consistency(request.ConsistentRead);
          // Each key is its own GetItem: rounded on its own; a missing item costs the minimum.
          for (const item of found) this.tally.readUnits += readUnits(anyItemBytes(item), c);
          const missing = Math.max(0, (request.Keys?.length ?? 0) - found.length - unprocessed);
          this.tally.readUnits += missing * readUnits(0, c);
        }
        return;
      case 'Query':
      case 'Scan': {
        const bytes = (output?.Items ?? []).reduce((s: number, i: Item) => s + anyItemBytes(i), 0);
        this.tally.readUnits += readUnits(bytes, consistency(input.ConsistentRead));
        return;
      }
      default:
        return;
    }
  }

  private priceOther(service: string, command: string, input: Loose): void {
    if (service === 'cloudwatch' && command === 'PutMetricData') {
      this.tally.putMetricDataRequests += 1;
      for (const d of input.MetricData ?? []) {
        const dims = [...(d.Dimensions ?? [])]
          .map((x: { Name?: string; Value?: string }) => `${x.Name}=${x.Value}`)
          .sort()
          .join(',');
        this.tally.metrics.add(`${input.Namespace}|${d.MetricName}|${dims}`);
      }
    } else if (service === 'sns' && command === 'Publish') {
      this.tally.snsPublishes += 1;
    } else if (service === 'sns' && command === 'PublishBatch') {
      this.tally.snsPublishes += input.PublishBatchRequestEntries?.length ?? 0;
    } else if (service === 'sqs' && command === 'SendMessage') {
      this.tally.sqsMessages += 1;
      this.tally.sqsBilledRequests += Math.max(
        1,
        Math.ceil(Buffer.byteLength(input.MessageBody ?? '') / SQS_CHUNK_BYTES),
      );
    } else if (service === 'sqs' && command === 'SendMessageBatch') {
      const entries: Loose[] = input.Entries ?? [];
      const bytes = entries.reduce((s, e) => s + Buffer.byteLength(e.MessageBody ?? ''), 0);
      this.tally.sqsMessages += entries.length;
      this.tally.sqsBilledRequests += Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES));
    }
  }

  reset(): void {
    this.counts.clear();
    this.tally = emptyTally();
  }

  /** Requests to one service (e.g. `dynamodb`) or all of them. */
  total(service?: string): number {
    let sum = 0;
    for (const [key, n] of this.counts) if (!service || key.startsWith(`${service}:`)) sum += n;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
