import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

/** What a new user hit on the first day, each through the real command in a real repository. */

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const strata = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });

describe('first-day papercuts', () => {
  it('accepts strata.params.json in editable though no commit has it yet (the search proposer writes it)', () => {
    const text = quadraticConfig({ maxTrials: 3 }).replace('editable: [train.mjs]', 'editable: [train.mjs, strata.params.json]');
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    const run = strata(repo, 'research');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('matches no committed file');
    expect(run.stdout).toContain('3 runs: ');
    expect(run.stdout).toContain('0 invalid');
    expect(gitIn(repo, 'show', 'strata/quad:strata.params.json')).toContain('"x"');
  });

  it('strata research on a file with only an evolve: section names the missing section and the command that fits', () => {
    const evolveOnly = `name: triage
evolve:
  seed: {system_prompt: prompts/system.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl}
  task_model: openai:gpt-4.1-mini
  reflection_model: openai:gpt-4.1-mini
  metric: {kind: exact}
  budget: {metric_calls: 10}
`;
    const example = '{"input": "a", "answer": "b"}\n';
    const repo = makeRepo({ 'strata.yaml': evolveOnly, 'prompts/system.txt': 'Classify.\n', 'data/train.jsonl': example, 'data/val.jsonl': example });
    const research = strata(repo, 'research');
    expect(research.status).toBe(1);
    expect(research.stderr).toBe(
      'strata research: invalid config in strata.yaml (1 problem):\n  research: missing: `strata research` needs a `research:` section; this file has `evolve:`: run `strata evolve`\n',
    );
    const pipeline = strata(repo, 'pipeline');
    expect(pipeline.status).toBe(1);
    expect(pipeline.stderr).toContain('pipeline: missing: `strata pipeline` needs a `pipeline:` section; this file has `evolve:`: run `strata evolve`');

    const researchOnly = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig() });
    const evolve = strata(researchOnly, 'evolve');
    expect(evolve.status).toBe(1);
    expect(evolve.stderr).toContain('evolve: missing: `strata evolve` needs an `evolve:` section; this file has `research:`: run `strata research`');
  });

  it('checks limits when it reads the config, before any trial: budgets and max_time a timer can hold, a finite max_trials', () => {
    const limit = 'must be at most 596h (about 24.8 days, the longest a Node.js timer can wait)';
    const cases: [string, string][] = [
      // Passed validation, then failed at the first trial ("budget + grace must be at most 2147483647 ms") and left a worktree.
      ['budget: 10s', 'budget: 600h'],
      ['budget: 10s', 'budget: 550h'],
      // Flooded stderr with TimeoutOverflowWarning.
      ['max_trials: 5', 'max_trials: 5\n  max_time: 600h'],
      // Said "expected number, received number, got null".
      ['max_trials: 5', 'max_trials: 1e400'],
    ];
    const expected = [
      `research.budget: ${limit}, got "600h"`,
      `research.budget: budget + grace (550h00m + 55h00m, the default 10%) ${limit}`,
      `research.max_time: ${limit}, got "600h"`,
      'research.max_trials: expected a finite number, got Infinity (beyond the range of numbers; write the limit you mean)',
    ];
    cases.forEach(([from, to], index) => {
      const text = quadraticConfig().replace(from, to);
      expect(text).toContain(to);
      const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
      const run = strata(repo, 'research');
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`strata research: invalid config in strata.yaml (1 problem):\n  ${expected[index]}\n`);
      expect(existsSync(join(repo, '.strata'))).toBe(false);
      expect(gitIn(repo, 'worktree', 'list')).not.toContain('.strata');
    });
  });

  it('says what an uncommitted strata.yaml does: its settings apply as on disk, while trials run the committed code', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 5 }) });
    writeFileSync(join(repo, 'strata.yaml'), quadraticConfig({ maxTrials: 2 }));
    writeFileSync(join(repo, 'train.mjs'), `${quadraticTrainer()}// an edit not yet committed\n`);
    const run = strata(repo, 'research');
    expect(run.status, run.stderr).toBe(0);
    // Before: "uncommitted changes are not part of the study (…): strata.yaml, train.mjs", yet max_trials: 2 applied.
    expect(run.stdout).toContain('warning: strata.yaml has uncommitted changes: this study runs with it as it is on disk, not as committed');
    expect(run.stdout).toMatch(/warning: uncommitted changes to train\.mjs are not part of the study: trials run the code committed at HEAD [0-9a-f]{8}\n/);
    expect(run.stdout).toContain('max_trials reached (2)');
    expect(gitIn(repo, 'show', 'strata/quad:train.mjs')).not.toContain('an edit not yet committed');
  });

  it('a wrong --format names the formats (it was a stack trace); --out where nothing can be written fails at once (it spun a core and ignored SIGTERM)', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 1 }) });
    expect(strata(repo, 'research').status).toBe(0);
    const exported = strata(repo, 'export', '--format', 'xml');
    expect(exported.status).toBe(2);
    expect(exported.stderr).toBe(
      `strata export: --format must be tsv (autoresearch's columns) or jsonl (every field), got "xml"\nusage: strata export [--format tsv|jsonl] [--config strata.yaml | --study NAME]\n`,
    );
    const report = strata(repo, 'report', '--format', 'pdf');
    expect(report.status).toBe(2);
    expect(report.stderr).toContain('--format must be html or md, got "pdf"');

    // Under /proc a mkdir answers ENOENT though /proc exists: Node's recursive mkdir looped there forever.
    for (const args of [['report', '--out', '/proc/nope/x'], ['report', '--format', 'md', '--out', '/proc/nope/x.md'], ['plot', '--out', '/proc/nope/x']]) {
      const started = Date.now();
      const run = spawnSync(process.execPath, [BIN, ...args], { cwd: repo, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      expect(run.signal, `${args.join(' ')} hung`).toBeNull();
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`strata ${args[0]}: cannot write ${args.at(-1)} (ENOENT: no such file or directory, mkdir '/proc/nope'): choose a folder you can write to with --out\n`);
      expect(Date.now() - started).toBeLessThan(30_000);
    }
    const nested = join(repo, 'out/deeper/report.html');
    expect(strata(repo, 'report', '--out', nested).status).toBe(0);
    expect(existsSync(nested)).toBe(true);
    writeFileSync(join(repo, 'afile'), '');
    const underFile = strata(repo, 'plot', '--out', join(repo, 'afile/chart.svg'));
    expect(underFile.status).toBe(1);
    expect(underFile.stderr).toContain(`cannot write ${join(repo, 'afile/chart.svg')} (ENOTDIR`);
  });

  it('the dashboard, on a repository with no ledger yet, names commands that exist (it said `strata optimize`)', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig() });
    // --ledger NAME reached the dashboard's reader, whose hint was the one naming `strata optimize`.
    const commands = [['serve', '--port', '0'], ['serve', '--port', '0', '--ledger', 'elsewhere.db'], ['report'], ['report', '--ledger', 'elsewhere.db'], ['plot'], ['status'], ['export']];
    for (const [command, ...args] of commands) {
      const run = spawnSync(process.execPath, [BIN, command!, ...args], { cwd: repo, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      expect(run.status, command).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^strata ${command}: no ledger at .*: run \`strata research\` \\(or \`strata evolve\`\\)`));
      expect(run.stderr).not.toContain('optimize');
    }
  });
});
