// The Lambda execution environment, played by one child process per function and shard: it
// imports the bundled handler once (cold start) and runs one invocation at a time on request of
// the runner (IPC). Faults asked for by the runner are applied around the real handler, so tests
// can make a function fail before or after its writes, die mid-batch, or hang past its timeout.
import { pathToFileURL } from 'node:url';

const handlerPath = process.argv[2];
if (!handlerPath) {
  console.error('usage: node sandbox-runtime.mjs <bundled handler>');
  process.exit(2);
}

// The runner is gone: so is this environment.
process.on('disconnect', () => process.exit(0));

class InjectedFault extends Error {
  constructor(phase) {
    super(`injected fault (${phase} the handler)`);
    this.name = 'InjectedFault';
  }
}

async function applyFault(fault, phase) {
  if (!fault || fault.phase !== phase) return;
  if (fault.action === 'exit') process.exit(137);
  if (fault.action === 'hang') await new Promise(() => {});
  throw new InjectedFault(phase);
}

let handler;
try {
  const mod = await import(pathToFileURL(handlerPath).href);
  handler = mod.handler;
  if (typeof handler !== 'function') throw new Error(`${handlerPath} exports no handler function`);
} catch (err) {
  process.send?.({
    type: 'init-error',
    errorType: err?.name ?? 'Error',
    errorMessage: String(err?.message ?? err),
  });
  process.exit(1);
}
process.send?.({ type: 'ready' });

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { id, event, deadline, context, fault } = message;
  const lambdaContext = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    await applyFault(fault, 'before');
    const result = await handler(event, lambdaContext);
    await applyFault(fault, 'after');
    process.send?.({ type: 'result', id, result: result ?? null });
  } catch (err) {
    process.send?.({
      type: 'error',
      id,
      errorType: err?.name ?? 'Error',
      errorMessage: String(err?.message ?? err),
    });
  }
});
