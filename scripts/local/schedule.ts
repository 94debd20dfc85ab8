/**
 * Scheduled invocations, as EventBridge Scheduler makes them in AWS: a function whose
 * function.json declares `schedule` is invoked with the declared input once per period. A run
 * never overlaps the previous one (a slow run delays the next), and a failed run is logged and
 * simply happens again next period, as an at-least-once schedule would.
 */
import type { InvokeOutcome } from './sandbox.js';

export interface ScheduleSpec {
  /** `rate(N minute|minutes|hour|hours|day|days)`; the only form Pulse declares. */
  expression: string;
  input: unknown;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression.trim());
  if (!match)
    throw new Error(
      `schedule expression ${expression}: the local runner supports rate(N minutes|hours|days)`,
    );
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

export class Schedule {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  runs = 0;
  failures = 0;

  constructor(
    private readonly o: {
      spec: ScheduleSpec;
      /** Period override (tests, the demo); default from the expression. */
      everyMs?: number;
      invoke: (input: unknown) => Promise<InvokeOutcome>;
      log: (message: string) => void;
    },
  ) {}

  start(): void {
    const every = this.o.everyMs ?? ratePeriodMs(this.o.spec.expression);
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, every);
      });
    };
    this.timer = setTimeout(tick, every);
  }

  private async runOnce(): Promise<void> {
    const outcome = await this.o.invoke(this.o.spec.input);
    this.runs += 1;
    if (outcome.ok) this.o.log(`scheduled run: ${JSON.stringify(outcome.response)}`);
    else {
      this.failures += 1;
      this.o.log(`scheduled run failed: ${outcome.errorType}: ${outcome.errorMessage}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
