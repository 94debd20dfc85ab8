/**
 * Counts the requests an SDK client really sends, per service and command, with a middleware on
 * the client's stack. It sits in the deserialize step, inside the retry middleware, so every HTTP
 * attempt is counted (retries included). A DynamoDBDocumentClient shares its inner client's
 * stack, so document commands are counted under their low-level names (PutItem, BatchGetItem...).
 */

interface StackClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'deserialize'; name: string; override?: boolean },
    ): void;
  };
}

export class RequestCounter {
  private counts = new Map<string, number>();

  attach(client: unknown, service: string): void {
    (client as StackClient).middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const key = `${service}:${command}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        return next(args);
      },
      { step: 'deserialize', name: 'pulseBenchRequestCounter', override: true },
    );
  }

  reset(): void {
    this.counts.clear();
  }

  /** Requests to one service (e.g. `dynamodb`) or all of them. */
  total(service?: string): number {
    let sum = 0;
    for (const [key, n] of this.counts) if (!service || key.startsWith(`${service}:`)) sum += n;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
