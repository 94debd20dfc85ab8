// biome-ignore-all lint/suspicious/noExplicitAny: hcl2json output is untyped JSON walked by path
/**
 * The per-function "stalled" alarm (terraform/modules/observability/main.tf) must fire when records
 * arrive on the stream while a function's stream mapping delivers nothing (mapping disabled, EFO
 * consumer, KMS or IAM broken), for stalled_periods x stalled_period_s.
 *
 * fraud-rules is also invoked by its own schedule (function.json `schedule`, rate(5 minutes)). An
 * alarm on `AWS/Lambda Invocations` counted those and could never fire for fraud-rules (found by
 * the review, test/review/stalled-alarm-schedule.test.ts). This evaluates the alarm's metric math
 * the way CloudWatch does, one period at a time, over a model of what Lambda reports for a
 * scheduled invocation and for a stream batch, so it holds whichever metrics the alarm reads.
 *
 * Missing datapoints follow metric math, not FILL(): a period exists when any input series has a
 * datapoint in it; there, arithmetic and comparisons read a series without a datapoint as 0; a
 * period where no input has one yields no value (treat_missing_data decides). The expression may
 * not use FILL at all, whose result for a series with no data in the window is undocumented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';

type Json = any;

const root = join(__dirname, '..', '..');
const vars = readFileSync(join(root, 'terraform/modules/observability/variables.tf'), 'utf8');
const fraud = JSON.parse(readFileSync(join(root, 'services/fraud-rules/function.json'), 'utf8')) as {
  schedule?: { expression: string };
};

const periodS = Number(/stalled_period_s\s*=\s*optional\(number,\s*(\d+)\)/.exec(vars)?.[1]);
const periods = Number(/stalled_periods\s*=\s*optional\(number,\s*(\d+)\)/.exec(vars)?.[1]);

/** What one function's period holds: scheduled invocations, stream batches, records put on the stream. */
interface Period {
  scheduled: number;
  batches: number;
  records: number;
}

/**
 * The datapoint CloudWatch has for a metric in a period (undefined: nothing was reported). Lambda
 * counts every invocation in Invocations, and reports an IteratorAge sample only per batch from a
 * stream mapping.
 */
function datapoint(metric: { namespace: string; metric_name: string; stat: string }, p: Period) {
  const present = (n: number) => (n > 0 ? n : undefined);
  const key = `${metric.namespace} ${metric.metric_name} ${metric.stat}`;
  switch (key) {
    case 'AWS/Kinesis IncomingRecords Sum':
      return present(p.records);
    case 'AWS/Lambda Invocations Sum':
      return present(p.scheduled + p.batches);
    case 'AWS/Lambda IteratorAge SampleCount':
      return present(p.batches);
    default:
      throw new Error(`the model does not know ${key}`);
  }
}

let alarm: Json;
let expression: string;
beforeAll(async () => {
  const m = await convertFiles(join(root, 'terraform/modules/observability'));
  alarm = m.resource.aws_cloudwatch_metric_alarm.stalled[0];
  const returned = (alarm.metric_query as Json[]).find((q) => q.return_data === true);
  const locals = Object.assign({}, ...(m.locals as Json[]));
  const ref = /^\$\{local\.([a-z_]+)\}$/.exec(String(returned.expression));
  expression = ref ? String(locals[ref[1] as string]) : String(returned.expression);
});

/**
 * The alarm's returned expression for one period, as metric math evaluates it: undefined when no
 * input has a datapoint, else with every missing input read as 0 (IF, AND, OR as CloudWatch defines them).
 */
function stalledValue(p: Period): number | undefined {
  const inputs = (alarm.metric_query as Json[]).filter((q) => q.metric);
  const values = inputs.map((q) => datapoint(q.metric[0], p));
  if (values.every((v) => v === undefined)) return undefined;
  const IF = (c: boolean, a: number, b: number) => (c ? a : b);
  const js = expression
    .replace(/==/g, '===')
    .replace(/\bAND\b/g, '&&')
    .replace(/\bOR\b/g, '||');
  return new Function('IF', ...inputs.map((q) => q.id), `return Number(${js});`)(
    IF,
    ...values.map((v) => v ?? 0),
  );
}

function scheduleSeconds(expr: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expr);
  if (!m) throw new Error(`unexpected schedule ${expr}`);
  return Number(m[1]) * (m[2]?.startsWith('hour') ? 3600 : 60);
}

/** The alarm's window for fraud-rules, its schedule running, `batches` stream batches a period. */
function window(batches: number, records: number): Period[] {
  const every = scheduleSeconds(fraud.schedule?.expression ?? '');
  return Array.from({ length: periods }, (_, p) => {
    const start = p * periodS;
    let scheduled = 0;
    for (let t = 0; t < periods * periodS; t += every) if (t >= start && t < start + periodS) scheduled += 1;
    return { scheduled, batches, records };
  });
}

describe('fraud-rules stalled alarm vs its own schedule', () => {
  it('fires when records arrive and the stream mapping is disabled (only the schedule invokes the function)', () => {
    const values = window(0, 1_000).map(stalledValue);
    // The alarm needs `periods` breaching datapoints out of `periods`.
    expect(values.every((v) => v !== undefined && v >= 1)).toBe(true);
  });

  it('stays quiet while the mapping delivers batches, and when no records arrive', () => {
    expect(window(3, 1_000).map(stalledValue)).toEqual(Array(periods).fill(0));
    // No records: fraud-rules' schedule still invokes it, yet no stream input has a datapoint, so
    // the period yields no value and the alarm's treat_missing_data (notBreaching) reads it as OK.
    expect(window(0, 0).map(stalledValue)).toEqual(Array(periods).fill(undefined));
    expect(alarm.treat_missing_data).toBe('notBreaching');
  });

  it('does not depend on FILL: a period with records and no IteratorAge datapoint at all is a stall by arithmetic', () => {
    expect(expression).not.toMatch(/FILL/i);
    // The stalled function's IteratorAge series has no datapoint in any period of the window.
    const dead = Array.from({ length: periods }, () => ({ scheduled: 0, batches: 0, records: 500 }));
    expect(dead.map(stalledValue)).toEqual(Array(periods).fill(1));
  });
});
