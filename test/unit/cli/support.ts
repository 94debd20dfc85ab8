/** A CliIO with captured output and a fake Target whose clients answer from handlers per command. */
import type { CliIO } from '../../../cli/src/command.js';
import type { EnvName } from '../../../cli/src/environments.js';
import { runCli } from '../../../cli/src/pulse.js';
import { namesFor, type Target } from '../../../cli/src/target.js';

type Handler = (input: Record<string, unknown>) => unknown;
/** Command class name (e.g. 'ReceiveMessageCommand') → answer. */
export type Handlers = Record<string, Handler>;

export interface Call {
  command: string;
  input: Record<string, unknown>;
}

export function fakeTarget(handlers: Handlers, calls: Call[] = [], env: EnvName = 'local'): Target {
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name;
      calls.push({ command: name, input: command.input });
      const handler = handlers[name];
      if (!handler) throw new Error(`unexpected ${name}`);
      return handler(command.input);
    },
  };
  const c = client as never;
  return {
    env,
    names: namesFor(env),
    kinesis: c,
    db: c,
    sqs: c,
    sns: c,
    cloudwatch: c,
    lambda: c,
    secrets: c,
    s3: c,
    queueUrl: async (name) => `http://sqs.local/000000000000/${name}`,
    topicArn: async (key) => `arn:aws:sns:us-east-1:000000000000:pulse-${env}-${key}`,
    close() {},
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  calls: Call[];
}

export async function run(
  argv: string[],
  options: {
    handlers?: Handlers;
    interactive?: boolean;
    answer?: string;
    env?: Record<string, string>;
    now?: number;
  } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const calls: Call[] = [];
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    interactive: options.interactive ?? false,
    env: options.env ?? {},
    ask: async (question) => {
      stderr += question;
      return options.answer ?? '';
    },
    connect: async () => fakeTarget(options.handlers ?? {}, calls),
    now: () => options.now ?? Date.parse('2026-11-28T12:00:00Z'),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr, calls };
}
