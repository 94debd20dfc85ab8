/** Progress never redraws with `\r` outside a terminal: a log gets a few plain lines instead. */
import { isInteractive, progress } from '../../../scripts/progress.js';

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (chunk: string) => chunks.push(chunk) > 0 } };
}

describe('progress', () => {
  it('prints one plain line per quarter, and none with a carriage return, when not interactive', () => {
    const { chunks, stream } = capture(false);
    const bar = progress({ total: 2_400, label: 'sent', stream });
    for (let done = 1; done <= 2_400; done++) bar.update(done, `processed: ${done}`);
    bar.clear();
    bar.finish();
    const text = chunks.join('');
    expect(text).not.toContain('\r');
    expect(text.split('\n').filter(Boolean)).toEqual([
      '  sent 600/2400 (25%) processed: 600',
      '  sent 1200/2400 (50%) processed: 1200',
      '  sent 1800/2400 (75%) processed: 1800',
      '  sent 2400/2400 (100%) processed: 2400',
    ]);
  });

  it('redraws one line on a terminal and ends it with a newline', () => {
    const { chunks, stream } = capture(true);
    const bar = progress({ total: 10, label: 'sent', stream, interactive: true });
    bar.update(5);
    bar.update(10);
    bar.finish();
    expect(chunks.filter((c) => c.startsWith('\r'))).toHaveLength(2);
    expect(chunks.at(-1)).toBe('\n');
  });

  it('is interactive only on a terminal outside CI', () => {
    expect(isInteractive({ isTTY: true }, {})).toBe(true);
    expect(isInteractive({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(isInteractive({ isTTY: false }, {})).toBe(false);
    expect(isInteractive({}, {})).toBe(false);
  });
});
