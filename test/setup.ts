// node:sqlite prints an ExperimentalWarning on first use; the CLI filters it too (bin/strata.js).
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...args: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/SQLite is an experimental feature/.test(text)) return;
  return (emitWarning as (...a: unknown[]) => void)(warning, ...args);
}) as typeof process.emitWarning;
