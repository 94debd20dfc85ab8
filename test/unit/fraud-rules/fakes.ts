/**
 * Small hand-written fakes of the SDK clients' `send`. The DynamoDB fake keeps items in memory and
 * honours exactly the condition and update expressions fraud-rules uses; anything else throws, so
 * a new expression cannot be silently accepted. Faults can be injected before or after a command
 * takes effect (after = the write landed but the caller crashed or timed out).
 */
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;
interface Input extends Record<string, unknown> {
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}
export type CallKind = 'BatchGet' | 'Get' | 'Put' | 'Update' | 'Publish';
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
  /** Return at most this many keys per BatchGet; the rest come back as UnprocessedKeys. */
  batchGetLimit = Number.POSITIVE_INFINITY;

  constructor(
    private readonly hashKeys: Record<string, string>,
    readonly log: CallLog = new CallLog(),
  ) {
    for (const table of Object.keys(hashKeys)) this.tables.set(table, new Map());
  }

  item(table: string, key: string): Item | undefined {
    const item = this.table(table).get(key);
    return item === undefined ? undefined : clone(item);
  }

  put(table: string, item: Item): void {
    this.table(table).set(String(item[this.hashKey(table)]), clone(item));
  }

  // biome-ignore lint/suspicious/noExplicitAny: stands in for the SDK's overloaded `send`.
  async send(command: any): Promise<any> {
    const input = command.input as Input;
    if (command instanceof BatchGetCommand) {
      const [table, request] =
        Object.entries(input.RequestItems as Record<string, { Keys: Item[] }>)[0] ?? [];
      if (!table || !request) throw new Error('fake: empty BatchGet');
      return this.log.run({ kind: 'BatchGet', table, input }, () => {
        const served = request.Keys.slice(0, this.batchGetLimit);
        const rest = request.Keys.slice(served.length);
        const hashKey = this.hashKey(table);
        const found = served.flatMap((key) => {
          const item = this.table(table).get(String(key[hashKey]));
          return item ? [clone(item)] : [];
        });
        return {
          Responses: { [table]: found },
          UnprocessedKeys: rest.length > 0 ? { [table]: { Keys: rest } } : {},
        };
      });
    }
    if (command instanceof GetCommand) {
      const table = input.TableName as string;
      return this.log.run({ kind: 'Get', table, input }, () => ({
        Item: this.item(table, String((input.Key as Item)[this.hashKey(table)])),
      }));
    }
    if (command instanceof PutCommand) {
      const table = input.TableName as string;
      return this.log.run({ kind: 'Put', table, input }, () => {
        const item = input.Item as Item;
        const key = String(item[this.hashKey(table)]);
        this.check(table, this.table(table).get(key), input);
        this.table(table).set(key, clone(item));
        return {};
      });
    }
    if (command instanceof UpdateCommand) {
      const table = input.TableName as string;
      return this.log.run({ kind: 'Update', table, input }, () => {
        const hashKey = this.hashKey(table);
        const key = String((input.Key as Item)[hashKey]);
        const existing = this.table(table).get(key);
        this.check(table, existing, input);
        const next: Item = { ...(existing ?? { [hashKey]: key }) };
        const expr = String(input.UpdateExpression);
        if (!expr.startsWith('SET ')) throw new Error(`fake: unsupported UpdateExpression ${expr}`);
        for (const assignment of expr.slice(4).split(',')) {
          const [lhs, rhs] = assignment.split('=').map((s) => s.trim());
          if (!lhs || !rhs?.startsWith(':')) throw new Error(`fake: unsupported assignment ${assignment}`);
          const name = lhs.startsWith('#') ? input.ExpressionAttributeNames?.[lhs] : lhs;
          const values = input.ExpressionAttributeValues ?? {};
          if (name === undefined) throw new Error(`fake: missing name ${lhs}`);
          if (!(rhs in values)) throw new Error(`fake: missing value ${rhs}`);
          next[name] = values[rhs];
        }
        this.table(table).set(key, clone(next));
        return {};
      });
    }
    throw new Error(`fake: unsupported command ${command?.constructor?.name}`);
  }

  private check(table: string, existing: Item | undefined, input: Input): void {
    const condition = input.ConditionExpression as string | undefined;
    if (condition === undefined) return;
    const hashKey = this.hashKey(table);
    let ok: boolean;
    if (condition === `attribute_not_exists(${hashKey})`) ok = existing === undefined;
    else if (condition === `attribute_exists(${hashKey})`) ok = existing !== undefined;
    else if (condition === 'version = :expected')
      ok = existing?.version === input.ExpressionAttributeValues?.[':expected'];
    else throw new Error(`fake: unsupported ConditionExpression ${condition}`);
    if (!ok) throw awsError('ConditionalCheckFailedException', 'The conditional request failed');
  }

  private table(name: string): Map<string, Item> {
    const table = this.tables.get(name);
    if (!table) throw awsError('ResourceNotFoundException', `table ${name} not found`);
    return table;
  }

  private hashKey(table: string): string {
    const key = this.hashKeys[table];
    if (!key) throw awsError('ResourceNotFoundException', `table ${table} not found`);
    return key;
  }
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
