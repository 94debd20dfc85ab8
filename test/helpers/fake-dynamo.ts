/**
 * An in-memory stand-in for the DynamoDB document client, for unit tests only (integration tests
 * use the real emulator). It honours the condition expressions Pulse writes use:
 * `attribute_not_exists(a)` and `a = :v`, optionally joined by OR. Faults can be injected per command.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;
interface CommandLike {
  constructor: { name: string };
  input: Record<string, unknown>;
}

export class ConditionalCheckFailed extends Error {
  constructor() {
    super('The conditional request failed');
    this.name = 'ConditionalCheckFailedException';
  }
}

export class FakeDynamo {
  readonly tables = new Map<string, Map<string, Item>>();
  readonly calls: string[] = [];
  private readonly faults: Array<{
    command: string;
    error: Error;
    when?: (input: Record<string, unknown>) => boolean;
  }> = [];

  constructor(private readonly keys: Record<string, string[]>) {}

  /** The next matching call of `command` throws `error` (once). */
  failNext(command: string, error: Error, when?: (input: Record<string, unknown>) => boolean): void {
    this.faults.push({ command, error, ...(when ? { when } : {}) });
  }

  items(table: string): Item[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  get(table: string, key: Item): Item | undefined {
    return this.tables.get(table)?.get(this.keyOf(table, key));
  }

  count(command: string): number {
    return this.calls.filter((c) => c === command).length;
  }

  asClient(): DynamoDBDocumentClient {
    return { send: (command: CommandLike) => this.send(command) } as unknown as DynamoDBDocumentClient;
  }

  async send(command: CommandLike): Promise<Record<string, unknown>> {
    const name = command.constructor.name;
    this.calls.push(name);
    const input = command.input;
    const fault = this.faults.findIndex((f) => f.command === name && (!f.when || f.when(input)));
    if (fault >= 0) {
      const { error } = this.faults.splice(fault, 1)[0]!;
      throw error;
    }
    switch (name) {
      case 'GetCommand': {
        const item = this.get(input.TableName as string, input.Key as Item);
        return item ? { Item: structuredClone(item) } : {};
      }
      case 'PutCommand': {
        const table = input.TableName as string;
        const item = input.Item as Item;
        this.check(table, item, input);
        this.table(table).set(this.keyOf(table, item), structuredClone(item));
        return {};
      }
      case 'BatchGetCommand': {
        const responses: Record<string, Item[]> = {};
        for (const [table, request] of Object.entries(
          input.RequestItems as Record<string, { Keys: Item[] }>,
        )) {
          responses[table] = request.Keys.map((key) => this.get(table, key))
            .filter((item): item is Item => item !== undefined)
            .map((item) => structuredClone(item));
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'BatchWriteCommand': {
        for (const [table, requests] of Object.entries(
          input.RequestItems as Record<string, Array<{ PutRequest: { Item: Item } }>>,
        )) {
          for (const { PutRequest } of requests)
            this.table(table).set(this.keyOf(table, PutRequest.Item), structuredClone(PutRequest.Item));
        }
        return { UnprocessedItems: {} };
      }
      default:
        throw new Error(`FakeDynamo does not implement ${name}`);
    }
  }

  private table(name: string): Map<string, Item> {
    let table = this.tables.get(name);
    if (!table) {
      table = new Map();
      this.tables.set(name, table);
    }
    return table;
  }

  private keyOf(table: string, item: Item): string {
    const names = this.keys[table];
    if (!names) throw new Error(`FakeDynamo: unknown table ${table}`);
    return names.map((k) => String(item[k])).join('|');
  }

  private check(table: string, item: Item, input: Record<string, unknown>): void {
    const expression = input.ConditionExpression as string | undefined;
    if (!expression) return;
    const existing = this.get(table, item);
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const holds = expression.split(/\s+OR\s+/i).some((clause) => {
      const notExists = /^attribute_not_exists\((\w+)\)$/.exec(clause.trim());
      if (notExists) return existing === undefined || existing[notExists[1] as string] === undefined;
      const equals = /^(\w+)\s*=\s*(:\w+)$/.exec(clause.trim());
      if (equals)
        return existing !== undefined && existing[equals[1] as string] === values[equals[2] as string];
      throw new Error(`FakeDynamo: unsupported condition ${clause}`);
    });
    if (!holds) throw new ConditionalCheckFailed();
  }
}
