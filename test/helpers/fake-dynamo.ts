/**
 * The one in-memory stand-in for the DynamoDB document client in unit tests (integration tests use
 * the emulator). It evaluates the condition and update expressions Pulse writes with a small
 * parser (comparisons, attribute_exists/attribute_not_exists, AND/OR/NOT, parentheses; SET and
 * REMOVE), queries declared global secondary indexes (sparse, as DynamoDB keeps them), and
 * marshals every written value the way the document client does, so a number above 2^53 fails
 * here as it would in Lambda. Anything it does not know throws, so a new expression cannot be
 * silently accepted.
 *
 * Faults: `log.fail(...)` makes matching calls throw before they take effect or after (the write
 * landed but the response was lost: what an SDK retry or a crashed caller sees); `failNext` is the
 * short form for one call of a command.
 */
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

type Item = Record<string, unknown>;
interface Input extends Record<string, unknown> {
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}
export type CallKind =
  | 'BatchGet'
  | 'BatchWrite'
  | 'Get'
  | 'Put'
  | 'Update'
  | 'Delete'
  | 'Query'
  | 'Scan'
  | 'Publish';
export interface Call {
  kind: CallKind;
  table?: string;
  input: Record<string, unknown>;
}

interface Fault {
  when: 'before' | 'after';
  match: (call: Call) => boolean;
  error: () => Error;
  remaining: number;
}

export function awsError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

export class ConditionalCheckFailed extends Error {
  constructor() {
    super('The conditional request failed');
    this.name = 'ConditionalCheckFailedException';
  }
}

/** One log shared by the fakes, so tests can assert the order of effects across services. */
export class CallLog {
  readonly calls: Call[] = [];
  private readonly faults: Fault[] = [];

  /** Makes the next `times` matching calls throw `error` before (default) or after taking effect. */
  fail(
    match: (call: Call) => boolean,
    error: () => Error,
    options: { times?: number; when?: 'before' | 'after' } = {},
  ) {
    this.faults.push({ match, error, remaining: options.times ?? 1, when: options.when ?? 'before' });
  }

  /** Drops every fault not yet fired (a dependency recovers). */
  clearFaults(): void {
    this.faults.length = 0;
  }

  async run<T>(call: Call, effect: () => T): Promise<T> {
    this.calls.push(call);
    this.trip(call, 'before');
    const result = effect();
    this.trip(call, 'after');
    return result;
  }

  count(kind: CallKind, table?: string): number {
    return this.calls.filter((c) => c.kind === kind && (table === undefined || c.table === table)).length;
  }

  private trip(call: Call, when: 'before' | 'after'): void {
    const fault = this.faults.find((f) => f.when === when && f.remaining > 0 && f.match(call));
    if (!fault) return;
    fault.remaining -= 1;
    throw fault.error();
  }
}

export interface IndexSpec {
  name: string;
  hashKey: string;
  rangeKey?: string;
}

const KIND_OF_COMMAND: Record<string, CallKind> = {
  BatchGetCommand: 'BatchGet',
  BatchWriteCommand: 'BatchWrite',
  GetCommand: 'Get',
  PutCommand: 'Put',
  UpdateCommand: 'Update',
  DeleteCommand: 'Delete',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
};

// Like the document client: refuses unsafe numbers, drops undefined (removeUndefinedValues).
const marshalled = (value: Item): void => {
  marshall(value, { removeUndefinedValues: true });
};
/** A deep copy that drops undefined (like removeUndefinedValues) and keeps binary values binary. */
const clone = <T>(value: T): T => {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map(clone) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, clone(v)]),
  ) as T;
};

export class FakeDynamo {
  readonly tables = new Map<string, Map<string, Item>>();
  /** Examine at most this many items per Scan page (DynamoDB pages at 1 MB), so callers must paginate. */
  scanPageSize = Number.POSITIVE_INFINITY;
  /** Return at most this many keys per BatchGet; the rest come back as UnprocessedKeys. */
  batchGetLimit = Number.POSITIVE_INFINITY;
  private readonly keys: Record<string, string[]>;

  constructor(
    keys: Record<string, string | string[]>,
    readonly log: CallLog = new CallLog(),
    private readonly indexes: Record<string, IndexSpec[]> = {},
  ) {
    this.keys = Object.fromEntries(Object.entries(keys).map(([t, k]) => [t, Array.isArray(k) ? k : [k]]));
    for (const table of Object.keys(keys)) this.tables.set(table, new Map());
  }

  /** The item under a key (the hash key value alone for single-key tables, or a key object). */
  item(table: string, key: string | Item): Item | undefined {
    const found = this.table(table).get(typeof key === 'string' ? key : this.keyOf(table, key));
    return found === undefined ? undefined : clone(found);
  }

  get(table: string, key: Item): Item | undefined {
    return this.item(table, key);
  }

  items(table: string): Item[] {
    return [...this.table(table).values()].map(clone);
  }

  put(table: string, item: Item): void {
    this.table(table).set(this.keyOf(table, item), clone(item));
  }

  /** Calls made of a command, by SDK name (`PutCommand`) or short kind (`Put`). */
  count(command: string, table?: string): number {
    return this.log.count((KIND_OF_COMMAND[command] ?? command) as CallKind, table);
  }

  /** The next call of `command` (matching `when`, if given) throws `error` before taking effect. */
  failNext(command: string, error: Error, when?: (input: Record<string, unknown>) => boolean): void {
    const kind = KIND_OF_COMMAND[command] ?? command;
    this.log.fail(
      (call) => call.kind === kind && (!when || when(call.input)),
      () => error,
    );
  }

  asClient(): DynamoDBDocumentClient {
    return { send: (command: unknown) => this.send(command) } as unknown as DynamoDBDocumentClient;
  }

  // biome-ignore lint/suspicious/noExplicitAny: stands in for the SDK's overloaded `send`.
  async send(command: any): Promise<any> {
    const input = command.input as Input;
    if (command instanceof BatchGetCommand) return this.batchGet(input);
    if (command instanceof BatchWriteCommand) return this.batchWrite(input);
    const table = input.TableName as string;
    if (command instanceof GetCommand) {
      return this.log.run({ kind: 'Get', table, input }, () => ({
        Item: this.item(table, input.Key as Item),
      }));
    }
    if (command instanceof PutCommand) {
      return this.log.run({ kind: 'Put', table, input }, () => {
        const item = input.Item as Item;
        marshalled(item);
        const key = this.keyOf(table, item);
        this.check(this.table(table).get(key), input);
        this.table(table).set(key, clone(item));
        return {};
      });
    }
    if (command instanceof UpdateCommand) {
      return this.log.run({ kind: 'Update', table, input }, () => {
        marshalled(input.ExpressionAttributeValues ?? {});
        const key = this.keyOf(table, input.Key as Item);
        const existing = this.table(table).get(key);
        this.check(existing, input);
        const next = applyUpdate({ ...(existing ?? (input.Key as Item)) }, input);
        this.table(table).set(key, clone(next));
        return {};
      });
    }
    if (command instanceof QueryCommand) {
      return this.log.run({ kind: 'Query', table, input }, () => this.query(table, input));
    }
    if (command instanceof ScanCommand) {
      return this.log.run({ kind: 'Scan', table, input }, () => this.scan(table, input));
    }
    if (command instanceof DeleteCommand) {
      return this.log.run({ kind: 'Delete', table, input }, () => {
        const key = this.keyOf(table, input.Key as Item);
        this.check(this.table(table).get(key), input);
        this.table(table).delete(key);
        return {};
      });
    }
    throw new Error(`fake: unsupported command ${command?.constructor?.name}`);
  }

  private batchGet(input: Input) {
    const [table, request] = Object.entries(input.RequestItems as Record<string, { Keys: Item[] }>)[0] ?? [];
    if (!table || !request) throw new Error('fake: empty BatchGet');
    return this.log.run({ kind: 'BatchGet', table, input }, () => {
      const served = request.Keys.slice(0, this.batchGetLimit);
      const rest = request.Keys.slice(served.length);
      const found = served.flatMap((key) => {
        const item = this.item(table, key);
        return item ? [item] : [];
      });
      return {
        Responses: { [table]: found },
        UnprocessedKeys: rest.length > 0 ? { [table]: { Keys: rest } } : {},
      };
    });
  }

  private batchWrite(input: Input) {
    const requests = input.RequestItems as Record<string, Array<{ PutRequest: { Item: Item } }>>;
    const [table] = Object.keys(requests);
    return this.log.run({ kind: 'BatchWrite', table, input }, () => {
      for (const [name, puts] of Object.entries(requests)) {
        for (const { PutRequest } of puts) {
          marshalled(PutRequest.Item);
          this.put(name, PutRequest.Item);
        }
      }
      return { UnprocessedItems: {} };
    });
  }

  /** Query on the table's key or a declared index: `#h = :h` optionally `AND #r <op> :r`. */
  private query(table: string, input: Input) {
    const index = input.IndexName
      ? this.indexes[table]?.find((i) => i.name === input.IndexName)
      : { name: '', hashKey: this.keys[table]?.[0] as string, rangeKey: this.keys[table]?.[1] };
    if (!index) throw awsError('ValidationException', `no index ${String(input.IndexName)} on ${table}`);
    const condition = parseCondition(String(input.KeyConditionExpression), input);
    // Sparse: an item without the index's keys is not in the index.
    const inIndex = [...this.table(table).values()].filter(
      (item) => item[index.hashKey] !== undefined && (!index.rangeKey || item[index.rangeKey] !== undefined),
    );
    const matching = inIndex.filter((item) => condition(item));
    if (index.rangeKey) {
      const r = index.rangeKey;
      matching.sort((a, b) => compare(a[r], b[r]) * (input.ScanIndexForward === false ? -1 : 1));
    }
    const limit = typeof input.Limit === 'number' ? input.Limit : matching.length;
    return { Items: matching.slice(0, limit).map(clone), Count: Math.min(limit, matching.length) };
  }

  /** Scan in key order, one page of scanPageSize items; FilterExpression applies after the page is read. */
  private scan(table: string, input: Input) {
    const all = [...this.table(table).entries()].sort(([a], [b]) => a.localeCompare(b));
    const start = input.ExclusiveStartKey
      ? all.findIndex(([k]) => k === this.keyOf(table, input.ExclusiveStartKey as Item)) + 1
      : 0;
    const page = all.slice(start, start + this.scanPageSize);
    const filter = input.FilterExpression
      ? parseCondition(String(input.FilterExpression), input)
      : () => true;
    const items = page.map(([, item]) => item).filter((item) => filter(item));
    const last = start + page.length < all.length ? page[page.length - 1]?.[1] : undefined;
    const keyNames = this.keys[table] ?? [];
    return {
      Items: items.map(clone),
      Count: items.length,
      ...(last ? { LastEvaluatedKey: Object.fromEntries(keyNames.map((k) => [k, last[k]])) } : {}),
    };
  }

  private check(existing: Item | undefined, input: Input): void {
    if (input.ConditionExpression === undefined) return;
    if (!parseCondition(input.ConditionExpression, input)(existing)) throw new ConditionalCheckFailed();
  }

  private table(name: string): Map<string, Item> {
    const table = this.tables.get(name);
    if (!table) throw awsError('ResourceNotFoundException', `table ${name} not found`);
    return table;
  }

  private keyOf(table: string, item: Item): string {
    const names = this.keys[table];
    if (!names) throw awsError('ResourceNotFoundException', `table ${table} not found`);
    return names.map((k) => String(item[k])).join('|');
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function nameOf(token: string, input: Input): string {
  if (!token.startsWith('#')) return token;
  const name = input.ExpressionAttributeNames?.[token];
  if (name === undefined) throw new Error(`fake: missing name ${token}`);
  return name;
}

function valueFor(token: string, input: Input): unknown {
  const values = input.ExpressionAttributeValues ?? {};
  if (!(token in values)) throw new Error(`fake: missing value ${token}`);
  return values[token];
}

/** SET a = :v, #b = :w (also `a = a + :n`) and REMOVE a, #b, in either order. */
function applyUpdate(item: Item, input: Input): Item {
  const expression = String(input.UpdateExpression);
  const clauses = expression.split(/\b(SET|REMOVE)\s+/).slice(1);
  if (clauses.length === 0) throw new Error(`fake: unsupported UpdateExpression ${expression}`);
  for (let i = 0; i < clauses.length; i += 2) {
    const action = clauses[i];
    const body = String(clauses[i + 1]).trim();
    for (const part of body.split(',').map((s) => s.trim())) {
      if (action === 'REMOVE') {
        delete item[nameOf(part, input)];
        continue;
      }
      const [lhs, rhs] = part.split('=').map((s) => s.trim());
      if (!lhs || !rhs) throw new Error(`fake: unsupported assignment ${part}`);
      const plus = /^([#\w]+)\s*\+\s*(:\w+)$/.exec(rhs);
      if (plus) {
        item[nameOf(lhs, input)] =
          Number(item[nameOf(plus[1] as string, input)] ?? 0) + Number(valueFor(plus[2] as string, input));
      } else if (rhs.startsWith(':')) item[nameOf(lhs, input)] = valueFor(rhs, input);
      else throw new Error(`fake: unsupported assignment ${part}`);
    }
  }
  return item;
}

type Predicate = (item: Item | undefined) => boolean;

/** A recursive-descent reading of DynamoDB's condition grammar, as far as Pulse uses it. */
function parseCondition(expression: string, input: Input): Predicate {
  const tokens = expression.match(/\(|\)|<>|<=|>=|=|<|>|[#:]?[\w.]+/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token.toUpperCase() !== expected))
      throw new Error(`fake: cannot parse condition ${expression}`);
    return token;
  };
  const operand = (token: string) => (item: Item | undefined) =>
    token.startsWith(':') ? valueFor(token, input) : item?.[nameOf(token, input)];
  const primary = (): Predicate => {
    const token = take();
    const upper = token.toUpperCase();
    if (token === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (upper === 'NOT') {
      const inner = primary();
      return (item) => !inner(item);
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      take('(');
      const name = nameOf(take(), input);
      take(')');
      return token === 'attribute_exists'
        ? (item) => item?.[name] !== undefined
        : (item) => item?.[name] === undefined;
    }
    const left = operand(token);
    const op = take();
    const right = operand(take());
    return (item) => {
      const [a, b] = [left(item), right(item)];
      if (a === undefined || b === undefined) return op === '<>' ? a !== b : false;
      const c = compare(a, b);
      switch (op) {
        case '=':
          return c === 0;
        case '<>':
          return c !== 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        case '>=':
          return c >= 0;
        default:
          throw new Error(`fake: unsupported operator ${op} in ${expression}`);
      }
    };
  };
  const and = (): Predicate => {
    let left = primary();
    while (peek()?.toUpperCase() === 'AND') {
      take();
      const [l, r] = [left, primary()];
      left = (item) => l(item) && r(item);
    }
    return left;
  };
  const or = (): Predicate => {
    let left = and();
    while (peek()?.toUpperCase() === 'OR') {
      take();
      const [l, r] = [left, and()];
      left = (item) => l(item) || r(item);
    }
    return left;
  };
  const predicate = or();
  if (at !== tokens.length) throw new Error(`fake: cannot parse condition ${expression}`);
  return predicate;
}

export class FakeSns {
  readonly published: PublishCommandInput[] = [];

  constructor(readonly log: CallLog = new CallLog()) {}

  // biome-ignore lint/suspicious/noExplicitAny: stands in for the SDK's overloaded `send`.
  async send(command: any): Promise<any> {
    if (!(command instanceof PublishCommand))
      throw new Error(`fake: unsupported command ${command?.constructor?.name}`);
    const input = command.input;
    return this.log.run({ kind: 'Publish', input: input as unknown as Record<string, unknown> }, () => {
      this.published.push(input);
      return { MessageId: `msg-${this.published.length}` };
    });
  }
}
