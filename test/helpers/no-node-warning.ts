// The AWS SDK warns (NodeVersionSupportWarning) when it runs on a Node major it will drop. Nothing
// here may run on one: a test file during which the warning is emitted fails. The SDK calls
// process.emitWarning, and a test file's `process` is Jest's copy whose listeners never hear the
// real process's 'warning' events, so the call itself is watched.
const warnings: string[] = [];
const emitWarning = process.emitWarning;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : `${warning.name} ${warning.message}`;
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (`${type ?? ''} ${text}`.includes('NodeVersionSupportWarning')) warnings.push(text);
  return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
}) as typeof process.emitWarning;

afterAll(() => {
  process.emitWarning = emitWarning;
  expect(warnings).toEqual([]);
});
