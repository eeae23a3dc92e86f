import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { autoresearchFiles } from '../init/autoresearch-fixture.ts';
import { gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

/**
 * The package as a user gets it: `npm pack` of this working tree (its prepack
 * builds dist/), installed with no dev dependencies into an empty folder, then
 * run from that folder's node_modules only.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'strata-package-'));
const consumer = join(work, 'consumer');
const bin = join(consumer, 'node_modules/.bin/strata');

/** This Node (the pinned 22) first on PATH, as for a user who has Node 22 installed; npm's own variables from `npm test` left out. */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries({ ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, NO_COLOR: '1' }).filter(
    ([name]) => !/^npm_(package|lifecycle)_|^INIT_CWD$/.test(name),
  ),
);

function run(command: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...env, ...extra }, timeout: 240_000 });
  if (result.error) throw result.error;
  return result;
}

function ok(result: SpawnSyncReturns<string>): string {
  expect(result.status, `${result.stderr}\n${result.stdout}`).toBe(0);
  return result.stdout;
}

let packed: string[] = [];
let tarball = '';

beforeAll(() => {
  // Pack a copy of the working tree (what git tracks or would track), so this test never rewrites the clone's own dist/.
  const source = join(work, 'source');
  const files = gitIn(ROOT, 'ls-files', '--cached', '--others', '--exclude-standard', '-z').split('\0').filter(Boolean);
  for (const file of files) {
    // Deleted in the working tree but not yet committed: npm pack would not see it either.
    if (!existsSync(join(ROOT, file)) || !statSync(join(ROOT, file)).isFile()) continue;
    mkdirSync(dirname(join(source, file)), { recursive: true });
    cpSync(join(ROOT, file), join(source, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  const pack = ok(run('npm', ['pack', '--json', '--pack-destination', work], source));
  const [info] = JSON.parse(pack) as [{ filename: string; files: { path: string }[] }];
  packed = info.files.map((file) => file.path);

  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  tarball = join(work, info.filename);
  ok(run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], consumer));
}, 480_000);

// Real npm, tsc and studies on two shared cores: minutes, not the default minute.
describe('the packed package, installed from its tarball', { timeout: 240_000 }, () => {
  it('ships the build, its declarations, the schema, templates, dashboard assets, README and LICENSE, and nothing else', () => {
    for (const path of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/strata.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/cli/run.js',
      'dist/dashboard/static/index.html',
      'dist/dashboard/static/app.js',
      'schema/strata.schema.json',
      'templates/program.md',
    ]) {
      expect(packed, path).toContain(path);
    }
    const strays = packed.filter((path) => !/^(dist|bin|schema|templates)\//.test(path) && !['package.json', 'README.md', 'LICENSE'].includes(path));
    expect(strays).toEqual([]);
    // No TypeScript source (Node will not strip types under node_modules), no tests, no CI.
    expect(packed.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('every file the build finds next to itself (new URL(…, import.meta.url)) is in the installed package', () => {
    // The sources reach templates, the schema, the dashboard's assets and package.json this way; a path that holds in src/ but not in dist/ would fail only at run time.
    const installed = join(consumer, 'node_modules/strata');
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.js')) {
          for (const match of readFileSync(path, 'utf8').matchAll(/new URL\((['"])(\.{1,2}\/[^'"]*)\1, import\.meta\.url\)/g)) {
            const target = resolve(dirname(path), match[2]!);
            expect(existsSync(target), `${path} needs ${match[2]}`).toBe(true);
            found.push(target);
          }
        }
      }
    };
    walk(join(installed, 'dist'));
    expect(found).toEqual(expect.arrayContaining([join(installed, 'package.json'), join(installed, 'templates/program.md'), join(installed, 'schema/strata.schema.json')]));
  });

  it('installs no dev dependency', () => {
    const installed = readdirSync(join(consumer, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'node', 'vite', 'playwright-core', 'fast-check']) expect(installed).not.toContain(dev);
  });

  it('npx strata --version prints the package version', () => {
    expect(ok(run('npx', ['strata', '--version'], consumer)).trim()).toBe(VERSION);
  });

  it('strata init in an autoresearch-layout repository writes a config whose $schema resolves', () => {
    const repo = makeRepo(autoresearchFiles());
    const init = ok(run(bin, ['init'], repo));
    expect(init).toContain('(an autoresearch-style repository)');
    const text = readFileSync(join(repo, 'strata.yaml'), 'utf8');
    const reference = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1];
    // strata lives outside this Python repository: the reference is the installed package's schema.
    expect(reference).toBe(join(consumer, 'node_modules/strata/schema/strata.schema.json'));
    expect(existsSync(resolve(repo, reference!))).toBe(true);

    // In a project that installed strata, the reference is relative and holds for every clone.
    gitIn(consumer, 'init', '-q');
    ok(run('npx', ['strata', 'init'], consumer));
    expect(readFileSync(join(consumer, 'strata.yaml'), 'utf8')).toContain('# yaml-language-server: $schema=./node_modules/strata/schema/strata.schema.json\n');
  });

  it('installed globally, as for a Python repository: npx strata init there, npx strata research in a repository of its own', () => {
    const global = join(work, 'global');
    ok(run('npm', ['install', '--global', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], work, { npm_config_prefix: global }));
    // npx finds the global install (outside any project that installed strata, it would fetch whatever the registry calls strata).
    const globalEnv = { PATH: [join(global, 'bin'), env.PATH].join(delimiter), npm_config_prefix: global };
    const repo = makeRepo(autoresearchFiles());
    const init = ok(run('npx', ['--no-install', 'strata', 'init'], repo, globalEnv));
    expect(init).toContain('(an autoresearch-style repository)');
    const text = readFileSync(join(repo, 'strata.yaml'), 'utf8');
    expect(text).toMatch(/^ {2}run: "(uv run|python3) train\.py"/m);
    const reference = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1];
    expect(reference).toBe(join(global, 'lib/node_modules/strata/schema/strata.schema.json'));
    expect(existsSync(reference!)).toBe(true);

    const own = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 2 }) });
    expect(ok(run('npx', ['--no-install', 'strata', 'research'], own, globalEnv))).toContain('2 runs: ');
  });

  it('strata research with the search proposer runs a short study, and strata status --json describes it', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    const research = ok(run(bin, ['research'], repo));
    expect(research).toContain('3 runs:');
    const status = JSON.parse(ok(run(bin, ['status', '--json'], repo))) as { study: { state: string }; trials: { status: string }[] };
    expect(status.study.state).toBe('done');
    expect(status.trials).toHaveLength(3);
    expect(status.trials[0]!.status).toBe('keep');
  });

  it('strata serve serves the dashboard and its assets from the package', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 1 }) });
    ok(run(bin, ['research'], repo));
    const server = spawn(bin, ['serve', '--port', '0'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((found, failed) => {
        let seen = '';
        server.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const match = /strata dashboard: (\S+)/.exec(seen);
          if (match) found(match[1]!);
        });
        server.on('exit', (code) => failed(new Error(`strata serve exited ${code}: ${seen}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const script = await fetch(new URL('/assets/app.js', url));
      expect(script.status).toBe(200);
      expect(await script.text()).toBe(readFileSync(join(ROOT, 'src/dashboard/static/app.js'), 'utf8'));
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('an ESM consumer imports optimize and runResearch and runs a study through the library', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 2 }) });
    writeFileSync(
      join(consumer, 'use-library.mjs'),
      `import { readFileSync } from 'node:fs';
import { optimize, parseConfig, runResearch } from 'strata';
if (typeof optimize !== 'function') throw new Error('optimize is not exported');
const configPath = ${JSON.stringify(join(repo, 'strata.yaml'))};
const summary = await runResearch({ configPath, config: parseConfig(readFileSync(configPath, 'utf8'), configPath) });
console.log(JSON.stringify({ best: summary.best?.metric ?? null }));
`,
    );
    const out = ok(run(process.execPath, ['use-library.mjs'], consumer));
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ best: expect.any(Number) });
  });

  it('a TypeScript consumer type-checks against the shipped declarations, which are precise (not any)', () => {
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `import { optimize, runResearch, parseConfig, ConfigError, type StudyConfig, type OptimizeResult } from 'strata';
const config: StudyConfig = parseConfig('name: x');
const research: typeof runResearch = runResearch;
export async function go(): Promise<OptimizeResult> {
  return optimize({ seed: { prompt: 'Classify.' }, trainset: [{ q: 1 }], valset: [{ q: 1 }], evaluate: async () => ({ score: 1 }), reflectionModel: 'openai:gpt-4.1-mini', budget: { metricCalls: 10 } });
}
// @ts-expect-error the seed is a map of named texts
void optimize({ seed: 3 });
// @ts-expect-error a config's name is a string
const wrong: number = config.name;
export const code: string = new ConfigError([]).code;
void research; void wrong;
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // Every .d.ts is checked, ours included; @types/node from this clone stands in for the consumer's own.
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const check = run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
    // No error anywhere, the dependencies' declarations included: the AI SDK's import 'json-schema' types it does not
    // depend on (TS7016 in node_modules/@ai-sdk/provider under skipLibCheck: false, tsc's default); strata depends on @types/json-schema for them.
    expect(check.stdout.split('\n').filter((line) => /error TS/.test(line))).toEqual([]);
    expect(check.status, check.stdout).toBe(0);
  });

  it('on an older Node it prints one line naming the version it needs and how to get it, with no stack trace', () => {
    // The real bin in a real process; only the version it sees is older (a system Node 20 behaves the same).
    const older = 'data:text/javascript,Object.defineProperty(process,"version",{value:"v20.11.1"});Object.defineProperty(process.versions,"node",{value:"20.11.1"})';
    const result = run(process.execPath, ['--import', older, bin, 'research', '--config', 'my study.yaml'], consumer);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      "strata needs Node.js 22.16 or newer (this is v20.11.1): install Node 22 LTS (https://nodejs.org), or run `npx -p node@22 strata research --config 'my study.yaml'`\n",
    );
  });
});
