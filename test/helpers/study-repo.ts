import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig, type StudyConfig } from '../../src/core/config/parse-config.ts';

/** Run git in `cwd` and return trimmed stdout. */
export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}

/**
 * A real git repository in a temp folder with `files` committed on main.
 * Returns its path.
 */
export function makeRepo(files: Record<string, string>, options: { prefix?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'strata-repo-'));
  gitIn(dir, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** A trainer whose loss is (x - 1)^2 + 0.5 from strata.params.json (x = 3 without one); sleeps `sleepMs` first. */
export function quadraticTrainer(sleepMs = 50): string {
  return `import { existsSync, readFileSync } from 'node:fs';
const p = existsSync('strata.params.json') ? JSON.parse(readFileSync('strata.params.json', 'utf8')) : { x: 3 };
console.log('training with', JSON.stringify(p));
await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLEEP_MS ?? ${sleepMs})));
if (p.x > 4.5) { console.error('Traceback: x too large'); process.exit(3); }
console.log('METRIC loss=' + ((p.x - 1) ** 2 + 0.5));
`;
}

/**
 * The YAML of a small research study over `x` in [-5, 5]. The quadratic
 * trainer is deterministic, so these studies use the strict rule unless
 * `acceptance` names another (noise-aware would add baseline repeats).
 */
export function quadraticConfig(overrides: { name?: string; maxTrials?: number; budget?: string; extra?: string; run?: string; acceptance?: string } = {}): string {
  return `name: ${overrides.name ?? 'quad'}
research:
  editable: [train.mjs]
  protected: [data/**]
  run: ${JSON.stringify(overrides.run ?? `${process.execPath} train.mjs`)}
  budget: ${overrides.budget ?? '10s'}
  metric: {name: loss, goal: minimize}
  params:
    x: {type: float, low: -5, high: 5}
  search: {sampler: tpe, seed: 7, startup_trials: 3}
  max_trials: ${overrides.maxTrials ?? 5}
  acceptance: {rule: ${overrides.acceptance ?? 'strict'}}
${overrides.extra ?? ''}`;
}

export function config(text: string): StudyConfig {
  return parseConfig(text);
}
