#!/usr/bin/env node
// Entry point. An installed package runs the compiled build (dist/, Node >= 22.16: node:sqlite
// unflagged since 22.13, and the ledger uses its setReturnArrays and isTransaction, new in 22.16;
// test/package/node-floor.test.ts holds engines to the APIs the build calls); a clone runs its
// TypeScript sources through Node's type stripping (Node >= 22.18),
// so editing src/ needs no rebuild. Only syntax any Node since 14.8 parses lives here, so an old
// Node gets the one-line message below and not a SyntaxError.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = fileURLToPath(new URL('../src/cli/run.ts', import.meta.url));
// Node refuses to strip types under node_modules: there only the build can run.
const fromSources = existsSync(sources) && !sources.split(/[\\/]/).includes('node_modules');
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const needed = fromSources ? [22, 18] : [22, 16];
const oldNode = major < needed[0] || (major === needed[0] && minor < needed[1]);

if (oldNode && fromSources) {
  await rerunOnPinnedNode();
} else if (oldNode) {
  const again = ['npx', '-p', 'node@22', 'strata', ...process.argv.slice(2)].map(shellWord).join(' ');
  process.stderr.write(`strata needs Node.js ${needed.join('.')} or newer (this is ${process.version}): install Node 22 LTS (https://nodejs.org), or run \`${again}\`\n`);
  process.exitCode = 1;
} else {
  await start();
}

/** A clone on an older system Node (e.g. through `npm link`): re-run on the Node it pins, when `npm ci` installed it. */
async function rerunOnPinnedNode() {
  const { spawn } = await import('node:child_process');
  const pinned = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(
      `strata needs Node.js 22.18 or newer to run from its sources (this is ${process.version}). Run \`npm ci\` in the strata folder (it installs the pinned Node 22), or install Node 22 LTS.\n`,
    );
    process.exitCode = 1;
    return;
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group (forwarding it would count as a second press);
  // a SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const { constants } = await import('node:os');
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)));
}

/** `word` as a POSIX shell reads it back, so the suggested command can be pasted. */
function shellWord(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
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

  if (fromSources) {
    const { run } = await import('../src/cli/run.ts');
    await run(process.argv.slice(2));
    return;
  }
  const build = new URL('../dist/cli/run.js', import.meta.url);
  if (!existsSync(build)) {
    process.stderr.write(`strata: the build is missing (${fileURLToPath(build)}); in a clone run \`npm run build\`, otherwise reinstall the package\n`);
    process.exitCode = 1;
    return;
  }
  const { run } = await import(build.href);
  await run(process.argv.slice(2));
}
