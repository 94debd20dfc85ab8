import { jsonValue, positiveInt, requireString } from '../../../services/shared/config.js';
import { ConfigError } from '../../../services/shared/errors.js';
import { createLogger } from '../../../services/shared/logger.js';

describe('configuration', () => {
  it('names a missing variable', () => {
    expect(() => requireString({}, 'SESSIONS_TABLE')).toThrow(
      new ConfigError('environment variable SESSIONS_TABLE is required but not set'),
    );
  });

  it('uses the fallback for an unset integer', () => {
    expect(positiveInt({}, 'N', 30)).toBe(30);
  });

  it.each(['0', '-3', '2.5', 'ten'])('rejects %j as a positive integer', (raw) => {
    expect(() => positiveInt({ N: raw }, 'N', 1)).toThrow(
      `environment variable N must be a positive integer, got "${raw}"`,
    );
  });

  it('rejects an integer above its bound, naming the variable', () => {
    expect(() => positiveInt({ N: '5000' }, 'N', 1, 1000)).toThrow(
      'environment variable N must be at most 1000, got 5000',
    );
  });

  it('rejects malformed JSON naming the variable', () => {
    expect(() => jsonValue({ RULES: '{nope' }, 'RULES')).toThrow(
      /^environment variable RULES is not valid JSON: /,
    );
  });

  it('sets the error name', () => {
    expect(new ConfigError('x').name).toBe('ConfigError');
  });
});

describe('createLogger', () => {
  it('writes one JSON line with a constant message and the context', () => {
    const lines: string[] = [];
    createLogger('svc', 'INFO', (l) => lines.push(l)).info('batch processed', { records: 3 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'INFO',
      message: 'batch processed',
      service: 'svc',
      records: 3,
    });
  });

  it('drops entries below the level', () => {
    const lines: string[] = [];
    createLogger('svc', 'WARN', (l) => lines.push(l)).info('quiet');
    expect(lines).toEqual([]);
  });

  it('serialises errors with name and message', () => {
    const lines: string[] = [];
    createLogger('svc', 'INFO', (l) => lines.push(l)).error('failed', { error: new ConfigError('bad') });
    expect(JSON.parse(lines[0] as string).error).toMatchObject({ name: 'ConfigError', message: 'bad' });
  });
});
