#!/usr/bin/env node
// Entry point. Strata's sources are TypeScript run by Node's type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `strata needs Node.js 22.18 or newer (this is ${process.version}). Run it through npm (npx strata, npm run …), which uses the Node pinned in devDependencies, or install Node 22 LTS.\n`,
  );
  process.exit(1);
}
// node:sqlite is stable enough for us but still prints an ExperimentalWarning; keep other warnings.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...args) => {
  const text = typeof warning === 'string' ? warning : warning?.message;
  const type = typeof args[0] === 'string' ? args[0] : args[0]?.type;
  if (type === 'ExperimentalWarning' && /SQLite|Type Stripping/i.test(String(text))) return;
  return emitWarning(warning, ...args);
};

const { run } = await import('../src/cli/run.ts');
await run(process.argv.slice(2));
