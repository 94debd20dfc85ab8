// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations
// biome-ignore-all lint/suspicious/noExplicitAny: hcl2json output and terraform console JSON are untyped
/**
 * Anomaly-detection alarms on what the business notices first (modules/observability): Events,
 * Purchases and Revenue per currency. Terraform itself evaluates the module's locals (variables.tf
 * plus every `locals` block of main.tf in a scratch folder, `terraform console`, no provider), with
 * each environment's own settings from envs/<env>/main.tf, so these assertions read what would be
 * planned: metric and dimensions, band width, minimum volume, both directions, actions, dashboard.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';
import { DEPLOYED_FUNCTIONS } from '../../lib/config.js';
import { deployedSettings } from '../../scripts/bench/cost-model.js';

type Json = any;
const root = join(__dirname, '..', '..');
const tf = join(root, 'terraform');
const TERRAFORM = process.env.TERRAFORM ?? 'terraform';
const ENVS = ['dev', 'staging', 'prod'] as const;

/** Every top-level `locals { ... }` block of a .tf file. */
function localsBlocks(file: string): string {
  return (readFileSync(file, 'utf8').match(/^locals \{\n[\s\S]*?^\}\n/gm) ?? []).join('\n');
}

/** Evaluates `expr` with Terraform in a folder holding only `files`, `vars` as tfvars. */
function evaluate(files: Record<string, string>, vars: Json, expr: string): Json {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-console-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'test.auto.tfvars.json'), JSON.stringify(vars));
    const r = spawnSync(TERRAFORM, ['console'], {
      cwd: dir,
      input: `jsonencode(${expr})\n`,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' },
    });
    if (r.status !== 0) throw new Error(`${r.stdout}\n${r.stderr}`);
    return JSON.parse(JSON.parse(r.stdout.trim()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const observability = {
  'variables.tf': readFileSync(join(tf, 'modules/observability/variables.tf'), 'utf8'),
  // the only data source the locals read; the region does not matter here
  'locals.tf': localsBlocks(join(tf, 'modules/observability/main.tf')).replace(
    /data\.aws_region\.current\.region/g,
    '"eu-west-1"',
  ),
};
const baseVars = (environment: string, anomaly: Json) => ({
  name_prefix: `pulse-${environment}`,
  environment,
  functions: {
    'fraud-rules': {
      function_name: `pulse-${environment}-fraud-rules`,
      on_failure_queue_name: 'q',
      log_group_name: 'lg',
    },
  },
  alarm_topic_arn: 'arn:aws:sns:eu-west-1:111111111111:pulse-ops',
  alerts_topic_name: 'alerts',
  fraud_rules_log_group_name: 'lg',
  stream_name: `pulse-${environment}-events`,
  anomaly,
});

/** The environment's anomaly settings, as its main.tf states them. */
function envAnomaly(env: string): Json {
  return evaluate(
    { 'main.tf': localsBlocks(join(tf, 'envs', env, 'main.tf')) },
    {},
    'local.settings.anomaly_alarms',
  );
}

describe('anomaly alarms: Events, Purchases and Revenue per currency', () => {
  let alarm: Json;
  beforeAll(async () => {
    const m = await convertFiles(join(tf, 'modules/observability'));
    alarm = m.resource.aws_cloudwatch_metric_alarm.anomaly[0];
  });

  test('one alarm resource over the table: both directions, the band as threshold, alarm and OK actions', () => {
    expect(alarm.for_each).toBe('${local.anomaly_alarms}');
    expect(alarm.comparison_operator).toBe('LessThanLowerOrGreaterThanUpperThreshold');
    expect(alarm.threshold_metric_id).toBe('band');
    expect(alarm.threshold).toBeUndefined();
    expect(alarm.alarm_actions).toBe('${local.alarm_common.alarm_actions}');
    expect(alarm.ok_actions).toBe('${local.alarm_common.ok_actions}');
    expect(alarm.treat_missing_data).toBe('notBreaching');
    const q = Object.fromEntries((alarm.metric_query as Json[]).map((x) => [x.id, x]));
    expect(Object.keys(q).sort()).toEqual(['band', 'floored', 'metric', 'records', 'value']);
    // CloudWatch compares the returned series with the band: both are returned, nothing else.
    expect(q.band.return_data).toBe(true);
    expect(q.floored.return_data).toBe(true);
    for (const id of ['value', 'metric', 'records']) expect(q[id].return_data).toBeUndefined();
    expect(q.metric.metric[0]).toMatchObject({ stat: 'Sum', dimensions: '${each.value.dimensions}' });
    expect(q.records.metric[0]).toMatchObject({ stat: 'Sum' });
  });

  test.each(ENVS)('%s: each series with its metric, dimensions, band width and minimum volume', (env) => {
    const settings = envAnomaly(env);
    const vars = baseVars(env, settings);
    const alarms = evaluate(observability, vars, 'local.anomaly_alarms');
    const exprs = evaluate(observability, vars, 'local.anomaly_expressions');
    const currencies = Object.keys(settings.revenue ?? {});
    expect(currencies.length).toBeGreaterThan(0);
    expect(Object.keys(alarms).sort()).toEqual(
      ['events', 'purchases', ...currencies.map((c) => `revenue-${c}`)].sort(),
    );
    const expected: Record<string, { metric: string; dims: Json; band: number; minimum: number }> = {
      events: { metric: 'Events', dims: { Environment: env }, ...settingOf(settings.events) },
      purchases: { metric: 'Purchases', dims: { Environment: env }, ...settingOf(settings.purchases) },
    };
    for (const c of currencies)
      expected[`revenue-${c}`] = {
        metric: 'Revenue',
        dims: { Environment: env, Currency: c }, // per currency: money is never added across currencies
        ...settingOf(settings.revenue[c]),
      };
    for (const [key, e] of Object.entries(expected)) {
      const a = alarms[key];
      expect({ key, metric: a.metric_name, dims: a.dimensions }).toEqual({
        key,
        metric: e.metric,
        dims: e.dims,
      });
      expect(a.name).toMatch(new RegExp(`^pulse-${env}-.*anomaly$`));
      expect(exprs[key]).toEqual({
        value: '0 * records + metric',
        floored: `IF(value < ${e.minimum}, ${e.minimum}, value)`,
        band: `ANOMALY_DETECTION_BAND(floored, ${e.band})`,
      });
      // the description states the band and the minimum, for whoever is paged
      expect(a.description).toContain(`band ${e.band} standard deviations`);
      expect(a.description).toContain(`quiet below ${e.minimum}`);
    }
  });

  test.each(ENVS)('%s: the bench prices as many alarms, and alarm metrics, as Terraform plans', (env) => {
    const functions = Object.fromEntries(
      DEPLOYED_FUNCTIONS.map((fn) => [
        fn,
        { function_name: `pulse-${env}-${fn}`, on_failure_queue_name: 'q', log_group_name: 'lg' },
      ]),
    );
    const vars = { ...baseVars(env, envAnomaly(env)), functions };
    const [plain, pipeline, stalled, anomaly] = evaluate(
      observability,
      vars,
      '[length(local.function_alarms), length(local.pipeline_alarms), length(local.stalled_alarms), length(local.anomaly_alarms)]',
    ) as [number, number, number, number];
    const d = deployedSettings(env);
    expect(d.alarms).toBe(plain + pipeline + stalled + anomaly);
    // A stalled alarm reads two metrics; an anomaly alarm bills its band (3) and the records it reads.
    expect(d.alarmMetrics).toBe(plain + pipeline + 2 * stalled + 4 * anomaly);
  });

  test('the compared series: a total drop falls to the floor (an alarm), volume under the minimum is flat (quiet)', () => {
    const exprs = evaluate(
      observability,
      baseVars('dev', { purchases: { minimum: 10 } }),
      'local.anomaly_expressions',
    );
    // metric math per period: a period exists when records or the metric has a datapoint; there a
    // missing value is 0 in arithmetic and comparisons.
    const series = (records: number | undefined, metric: number | undefined): number | undefined => {
      if (records === undefined && metric === undefined) return undefined;
      const IF = (c: boolean, a: number, b: number) => (c ? a : b);
      const value = new Function('records', 'metric', `return ${exprs.purchases.value};`)(
        records ?? 0,
        metric ?? 0,
      );
      return new Function('IF', 'value', `return ${exprs.purchases.floored};`)(IF, value);
    };
    expect(series(5_000, 120)).toBe(120); // normal evening: the value itself
    expect(series(5_000, undefined)).toBe(10); // checkout broken: no purchase datapoint at all -> floor, far below the band
    expect([series(40, 1), series(40, 3), series(40, undefined)]).toEqual([10, 10, 10]); // night noise: one flat line
    expect(series(undefined, undefined)).toBeUndefined(); // no record at all: no datapoint (not breaching)
  });

  test('the roots hand their settings through modules/pulse to the module', async () => {
    const pulse = await convertFiles(join(tf, 'modules/pulse'));
    expect(pulse.module.observability[0].anomaly).toBe('${var.anomaly_alarms}');
    for (const env of ENVS) {
      const r = await convertFiles(join(tf, 'envs', env));
      expect(r.module.pulse[0].anomaly_alarms).toBe('${local.settings.anomaly_alarms}');
    }
  });

  test('validations: band 1..10 standard deviations, positive minimum, ISO currency keys', () => {
    const ok = (anomaly: Json) => {
      try {
        evaluate(observability, baseVars('dev', anomaly), 'local.anomaly_alarms');
        return true;
      } catch (err) {
        if (!/Invalid value for (input )?variable/.test((err as Error).message)) throw err;
        return false;
      }
    };
    expect(ok({ revenue: { EUR: { minimum: 100 } } })).toBe(true);
    expect(ok({ events: { band_width: 0.5 } })).toBe(false);
    expect(ok({ purchases: { minimum: 0 } })).toBe(false);
    expect(ok({ revenue: { eur: { minimum: 100 } } })).toBe(false);
    expect(ok({ revenue: { EUR: { minimum: 0 } } })).toBe(false);
  });

  test("the dashboard shows each alarm's series against its band", () => {
    const vars = baseVars('dev', { revenue: { USD: { minimum: 500 } } });
    const widgets = evaluate(observability, vars, 'local.anomaly_widgets') as Json[];
    const exprs = evaluate(observability, vars, 'local.anomaly_expressions');
    expect(widgets.map((w) => w.title.split(' against')[0])).toEqual(['Events', 'Purchases', 'Revenue USD']);
    for (const [w, key] of widgets.map((w, i) => [w, ['events', 'purchases', 'revenue-USD'][i]] as const)) {
      const byId = Object.fromEntries(
        (w.metrics as Json[]).map((m) => [(m[m.length - 1] as Json).id, m[m.length - 1]]),
      );
      expect(byId.band.expression).toBe(exprs[key as string].band);
      expect(byId.floored.expression).toBe(exprs[key as string].floored);
      expect(w.period).toBe(300);
    }
    const all = evaluate(observability, vars, 'local.all_widgets') as Json[];
    expect(all.length).toBe(evaluate(observability, vars, 'local.widgets').length + widgets.length);
  });
});

function settingOf(s: Json): { band: number; minimum: number } {
  return { band: s.band_width, minimum: s.minimum };
}
