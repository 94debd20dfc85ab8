import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../services/metrics-emitter/config.js';
import { ConfigError } from '../../../services/shared/errors.js';

describe('loadConfig', () => {
  it('reads the table, namespace, environment and type cap', () => {
    expect(
      loadConfig({
        WATERMARKS_TABLE: 'pulse-dev-watermarks',
        METRICS_NAMESPACE: 'PulseX',
        ENVIRONMENT: 'dev',
        MAX_EVENT_TYPES: '20',
      }),
    ).toEqual({
      watermarksTable: 'pulse-dev-watermarks',
      namespace: 'PulseX',
      environment: 'dev',
      maxEventTypes: 20,
      eventTypes: new Set(['page_view', 'product_view', 'add_to_cart', 'purchase']),
      recentEventIdsLimit: 5000,
      duplicateWindowSeconds: 120,
      decode: { maxEventAheadMs: 300_000 },
    });
  });

  it('defaults the namespace to Pulse and the cap to 50', () => {
    expect(loadConfig({ WATERMARKS_TABLE: 't', ENVIRONMENT: 'dev' })).toEqual({
      watermarksTable: 't',
      namespace: 'Pulse',
      environment: 'dev',
      maxEventTypes: 50,
      eventTypes: new Set(['page_view', 'product_view', 'add_to_cart', 'purchase']),
      recentEventIdsLimit: 5000,
      duplicateWindowSeconds: 120,
      decode: { maxEventAheadMs: 300_000 },
    });
  });

  it('names a missing or malformed variable', () => {
    expect(() => loadConfig({ ENVIRONMENT: 'dev' })).toThrow(
      new ConfigError('environment variable WATERMARKS_TABLE is required but not set'),
    );
    expect(() => loadConfig({ WATERMARKS_TABLE: 't' })).toThrow(/ENVIRONMENT/);
    expect(() => loadConfig({ WATERMARKS_TABLE: 't', ENVIRONMENT: 'dev', MAX_EVENT_TYPES: '0' })).toThrow(
      /MAX_EVENT_TYPES/,
    );
  });
});

describe('function.json', () => {
  it('keeps one concurrent batch per shard, which the per-shard watermark relies on', () => {
    const settings = JSON.parse(
      readFileSync(join(__dirname, '../../../services/metrics-emitter/function.json'), 'utf8'),
    );
    expect(settings.eventSourceMapping.parallelizationFactor).toBe(1);
  });
});
