import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namesUser } from '../../../cli/src/erase/places.js';
import { archiveBucket, settleMs, usersFrom } from '../../../cli/src/erase.js';
import { userHash } from '../../../services/shared/tombstones.js';
import { fakeTarget, type Handlers, run } from './support.js';

const KEY = 'k'.repeat(64);
const WRITES = [
  'PutCommand',
  'UpdateCommand',
  'DeleteCommand',
  'BatchWriteCommand',
  'DeleteMessageBatchCommand',
  'PutObjectCommand',
  'DeleteObjectCommand',
  'DeleteObjectsCommand',
];

const invalidMessage = (id: string, partitionKey: string, raw: string) => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: JSON.stringify({ reason: 'schema', partitionKey, rawData: Buffer.from(raw).toString('base64') }),
});

/** A small environment holding one user's items in every table and one queue message. */
function world(): Handlers {
  let received = false;
  return {
    GetSecretValueCommand: () => ({ SecretString: KEY }),
    QueryCommand: () => ({
      Items: [
        { userId: 'u1', sk: 'CURRENT' },
        { userId: 'u1', sk: 'SESSION#1#s' },
      ],
    }),
    GetCommand: () => ({ Item: { userId: 'u1' } }),
    ScanCommand: (input) => ({
      Items: String(input.TableName).endsWith('alerts') ? [{ alertId: 'a1' }] : [],
    }),
    GetQueueAttributesCommand: () => ({ Attributes: { ApproximateNumberOfMessagesNotVisible: '0' } }),
    ReceiveMessageCommand: () => {
      const out = received
        ? []
        : [invalidMessage('1', 'u1', '{"userId":"u1"'), invalidMessage('2', 'u2', 'x')];
      received = true;
      return { Messages: out };
    },
    ChangeMessageVisibilityBatchCommand: () => ({}),
    ListObjectsV2Command: () => ({ Contents: [] }),
    ListObjectVersionsCommand: () => ({ Versions: [] }),
  };
}

describe('pulse erase', () => {
  it('without --yes only looks, shows what it would remove and is refused in a script: nothing written', async () => {
    const r = await run(['erase', '--user', 'u1'], { handlers: world() });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('u1: 5 item(s) would be removed');
    expect(r.stderr).toMatch(/Refusing without --yes/);
    expect(r.calls.filter((c) => WRITES.includes(c.command))).toEqual([]);
    // Every message received was made visible again.
    const released = r.calls.filter((c) => c.command === 'ChangeMessageVisibilityBatchCommand');
    expect(released.flatMap((c) => (c.input.Entries as unknown[]) ?? [])).toHaveLength(2);
  });

  it('asks a person, and "no" writes nothing', async () => {
    const r = await run(['erase', '--user', 'u1'], { handlers: world(), interactive: true, answer: 'n' });
    expect(r.code).toBe(3);
    expect(r.calls.filter((c) => WRITES.includes(c.command))).toEqual([]);
  });

  it.each([
    [['erase'], /--user ID or --file FILE/],
    [['erase', '--user', 'u1', '--settle', 'soon'], /--settle must be a duration/],
    [['erase', '--list', '--yes'], /--list takes only/],
    [['erase', '--file', '/nonexistent/users.txt'], /--file \/nonexistent\/users.txt/],
    [['erase', '--user', ''], /non-empty id/],
  ])('%j is bad input, named, exit 2, before any AWS call', async (argv, message) => {
    const r = await run(argv as string[], { handlers: world() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.calls).toEqual([]);
  });

  it('--list shows the audit trail by keyed hash, never a user id; --user narrows it to that user', async () => {
    const items = [
      {
        userHash: userHash(KEY, 'u1'),
        status: 'COMPLETED',
        requestedAt: '2026-11-28T10:00:00.000Z',
        completedAt: '2026-11-28T10:02:00.000Z',
        requests: 1,
        tombstoneUntil: Date.parse('2026-12-28T10:00:00Z'),
        expiresAt: 0,
        removed: { sessions: 3, alerts: 1, archive: 0 },
      },
      {
        userHash: userHash(KEY, 'u2'),
        status: 'PENDING',
        requestedAt: '2026-11-28T11:00:00.000Z',
        requests: 1,
        tombstoneUntil: Date.parse('2026-12-28T11:00:00Z'),
        expiresAt: 0,
      },
    ];
    const handlers = { ...world(), ScanCommand: () => ({ Items: items }) };
    const all = await run(['erase', '--list'], { handlers });
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/COMPLETED .*sessions 3, alerts 1/);
    expect(all.stdout).toMatch(/PENDING/);
    expect(all.stdout).not.toMatch(/u1|u2/);
    const one = await run(['erase', '--list', '--user', 'u2', '--json'], { handlers });
    expect(JSON.parse(one.stdout).erasures.map((e: { status: string }) => e.status)).toEqual(['PENDING']);
  });
});

describe('usersFrom', () => {
  it('reads one id per line, skipping blanks and # comments, without duplicates, after --user ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-erase-'));
    const file = join(dir, 'users.txt');
    writeFileSync(file, '# request 42\nu2\r\n\n  u3  \nu1\nu2\n');
    expect(usersFrom({ user: ['u1'], file })).toEqual(['u1', 'u2', 'u3']);
  });
});

describe('namesUser', () => {
  const body = (partitionKey: string, raw: string) => ({
    Body: JSON.stringify({ partitionKey, rawData: Buffer.from(raw).toString('base64') }),
  });
  it('matches the partition key or a userId in the payload, and nothing else', () => {
    expect(namesUser(body('u1', 'garbage'), 'u1')).toBe(true);
    expect(namesUser(body('other', '{"userId":"u1","eventType":'), 'u1')).toBe(true);
    expect(namesUser(body('u10', '{"userId":"u10"}'), 'u1')).toBe(false);
    expect(namesUser(body('u2', '{"note":"about u1"}'), 'u1')).toBe(false);
  });
});

describe('a deployed environment', () => {
  const notFound = () =>
    Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' });
  const configurations = (missing: string) => ({
    GetFunctionConfigurationCommand: (input: Record<string, unknown>) => {
      const name = String(input.FunctionName);
      if (name.endsWith(missing)) throw notFound();
      const timeout = name.endsWith('fraud-rules') ? 90 : 60;
      return {
        Timeout: timeout,
        Environment: { Variables: { TOMBSTONE_REFRESH_SECONDS: '30', ARCHIVE_BUCKET: 'pulse-dev-archive' } },
      };
    },
  });

  it('without an archive (no archive-writer deployed): no bucket to rewrite, the wait from the other functions', async () => {
    const target = fakeTarget(configurations('archive-writer'), [], 'dev');
    expect(await archiveBucket(target)).toBeUndefined();
    expect(await settleMs(target)).toBe((30 + 90) * 1000 + 5_000);
  });

  it('with an archive: its bucket', async () => {
    expect(await archiveBucket(fakeTarget(configurations('none'), [], 'dev'))).toBe('pulse-dev-archive');
  });

  it('a stream function that is missing is an error, never skipped', async () => {
    await expect(settleMs(fakeTarget(configurations('session-updater'), [], 'dev'))).rejects.toThrow(
      'Function not found',
    );
  });
});
