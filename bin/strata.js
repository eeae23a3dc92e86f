#!/usr/bin/env node
// Entry point. Strata's sources are TypeScript run by Node's type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  // An older system Node (e.g. through `npm link`): re-run on the Node this clone pins, when `npm ci` installed it.
  const { existsSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const pinned = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(
      `strata needs Node.js 22.18 or newer (this is ${process.version}). Run \`npm ci\` in the strata folder (it installs the pinned Node 22), or install Node 22 LTS.\n`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group (forwarding it would count as a second press);
  // a SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const { constants } = await import('node:os');
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)));
} else {
  await start();
}

async function start() {
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
}
