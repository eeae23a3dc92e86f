import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { budgetAbove, detectProject } from '../../src/init/detect-project.ts';
import { goalFromName, programHints } from '../../src/init/metric-guess.ts';
import { renderInitConfig } from '../../src/init/render-init-config.ts';
import { printedMetricNames, summaryMetricNames, timeBudget } from '../../src/init/script-source.ts';
import { autoresearchFiles, machine, TRAIN_PY } from './autoresearch-fixture.ts';

function folder(files: Record<string, string>, name = 'autoresearch'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'strata-init-')), name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('strata init on an autoresearch checkout', () => {
  it('guesses a complete study: editable train.py, protected harness and lock files, uv run, val_bpb, peak_vram_mb, program.md, 6m', () => {
    const detection = detectProject(folder(autoresearchFiles()), machine(['uv', 'python3'], { ANTHROPIC_API_KEY: 'sk-test' }));
    expect(detection.layout).toBe('autoresearch');
    expect(detection.editable?.value).toEqual(['train.py']);
    expect(detection.protected.value).toEqual(['prepare.py', 'pyproject.toml', 'uv.lock', '.python-version']);
    expect(detection.run?.value).toBe('uv run train.py');
    expect(detection.metric?.value).toEqual({ name: 'val_bpb', goal: 'minimize', pattern: '^val_bpb:\\s*(\\S+)' });
    expect(detection.metric?.why).toContain('program.md greps for `^val_bpb:`');
    expect(detection.secondary?.value).toEqual(['peak_vram_mb']);
    expect(detection.budget).toMatchObject({ value: '6m', why: expect.stringContaining('TIME_BUDGET = 300s') });
    expect(detection.program?.value).toBe('program.md');
    expect(detection.env).toEqual({
      value: { HOME: '/home/researcher' },
      why: 'prepare.py keeps data under ~; uv keeps its package cache under ~/.cache/uv: trials get a fresh, empty HOME unless research.env names one',
    });
    expect(detection.proposer.value).toEqual({ kind: 'agent', model: 'anthropic:claude-sonnet-4-5', keyEnv: 'ANTHROPIC_API_KEY', keySet: true });
    expect(detection.todos).toEqual([]);
  });

  it('writes a config that parses as written, explains each guess in a comment and never contains the key', () => {
    const detection = detectProject(folder(autoresearchFiles()), machine(['uv'], { ANTHROPIC_API_KEY: 'sk-secret-value' }));
    const text = renderInitConfig(detection);
    const config = parseConfig(text, 'strata.yaml');
    const research = config.research!;
    expect(research).toMatchObject({ editable: ['train.py'], run: 'uv run train.py', budgetMs: 360_000, proposer: 'agent', maxTimeMs: 8 * 3_600_000 });
    expect(research.metric).toEqual({ name: 'val_bpb', goal: 'minimize', pattern: '^val_bpb:\\s*(\\S+)', secondary: [{ name: 'peak_vram_mb' }] });
    expect(research.protected).toEqual(['prepare.py', 'pyproject.toml', 'uv.lock', '.python-version']);
    expect(research.agent.program).toBe('program.md');
    expect(research.env).toEqual({ HOME: '/home/researcher' });
    expect(config.llm).toBeDefined();
    expect(text).toMatch(/# guessed: prepare\.py trains for TIME_BUDGET = 300s/);
    expect(text).toMatch(/# guessed: program\.md greps for `\^val_bpb:`; program\.md asks for the lowest val_bpb/);
    expect(text).toContain('# constraints: {peak_vram_mb: {max: 80000}}');
    expect(text).toContain('# acceptance: {rule: noise-aware}   # the default: the unmodified train.py runs once, and again (up to 5 runs, about 30m) only when a candidate looks better;');
    expect(text).not.toContain('sk-secret-value');
    expect(text).not.toContain('TODO');
  });

  it('falls back to python3 without uv, and says so', () => {
    const detection = detectProject(folder(autoresearchFiles()), machine(['python3', 'claude']));
    expect(detection.run?.value).toBe('python3 train.py');
    expect(detection.run?.why).toContain('uv is not on PATH');
    expect(detection.run?.why).toContain('program.md says `uv run train.py`');
    expect(detection.proposer.value).toEqual({ kind: 'command', command: 'claude -p --permission-mode acceptEdits' });
    const config = parseConfig(renderInitConfig(detection));
    expect(config.research).toMatchObject({ proposer: 'command', run: 'python3 train.py' });
    expect(config.llm).toBeUndefined();
  });

  it('without a key or coding agent: the agent config still parses, and the only TODO is the key', () => {
    const detection = detectProject(folder(autoresearchFiles()), machine(['uv']));
    expect(detection.todos).toEqual(['set ANTHROPIC_API_KEY before `strata research` (or change llm.model to a provider you have a key for)']);
    expect(() => parseConfig(renderInitConfig(detection))).not.toThrow();
  });

  it('uses OPENAI_API_KEY when only that is set', () => {
    const detection = detectProject(folder(autoresearchFiles()), machine([], { OPENAI_API_KEY: 'x' }));
    expect(detection.proposer.value).toMatchObject({ kind: 'agent', model: 'openai:gpt-5', keyEnv: 'OPENAI_API_KEY' });
  });

  it('recognizes a uv project with a train script and no program.md; reads a maximized score from the summary', () => {
    const train = TRAIN_PY.replace('val_bpb:  ', 'val_score:').replace('val_bpb = ', 'val_score = ').replace('{val_bpb', '{val_score');
    const detection = detectProject(folder(autoresearchFiles({ 'program.md': undefined, 'prepare.py': undefined, 'train.py': `TRAIN_SECONDS = 2 * 60\n${train}` })), machine(['uv']));
    expect(detection.layout).toBe('autoresearch');
    expect(detection.metric?.value).toEqual({ name: 'val_score', goal: 'maximize', pattern: '^val_score:\\s*(\\S+)' });
    expect(detection.metric?.why).toContain("the script's end-of-run summary prints `val_score:`");
    expect(detection.budget.value).toBe('3m');
    expect(detection.program).toBeUndefined();
    expect(detection.protected.value).toEqual(['pyproject.toml', 'uv.lock', '.python-version']);
  });

  it('takes the goal from program.md words over the name', () => {
    const detection = detectProject(
      folder(autoresearchFiles({ 'program.md': 'get the highest val_bpb, strangely\ngrep "^val_bpb:" run.log\n' })),
      machine(['uv'], { ANTHROPIC_API_KEY: 'k' }),
    );
    expect(detection.metric?.value.goal).toBe('maximize');
  });
});

describe('strata init on folders that are not autoresearch', () => {
  it('a generic Python script: what it can see, and a TODO for each thing it cannot guess', () => {
    const detection = detectProject(folder({ 'train.py': 'print("hello")\n', 'data/a.txt': 'x' }, 'my-project'), machine(['python3']));
    expect(detection.layout).toBe('generic');
    expect(detection.name).toBe('my-project');
    expect(detection.editable?.value).toEqual(['train.py']);
    expect(detection.protected.value).toEqual(['data/**']);
    expect(detection.run?.value).toBe('python3 train.py');
    expect(detection.metric).toBeUndefined();
    expect(detection.todos).toEqual([
      'could not tell which metric to optimize (train.py prints no line like `val_loss: <number>`): set research.metric.name, goal and pattern, or print `METRIC <name>=<number>`',
      'no time budget constant (TIME_BUDGET = <seconds>) found: check research.budget',
      'declare research.params (the search space) and read them in the script from strata.params.json, or use proposer: agent',
    ]);
    const text = renderInitConfig(detection);
    expect(text).toContain('# TODO: could not tell which metric to optimize');
    expect(parseConfig(text).research).toMatchObject({ proposer: 'search', metric: { name: 'val_loss', goal: 'minimize' } });
  });

  it('an empty folder: no script, no harness, no metric — all said, and the config still parses', () => {
    const detection = detectProject(folder({}, 'Empty Folder'), machine([]));
    expect(detection.name).toBe('empty-folder');
    expect(detection.todos.map((todo) => todo.split(':')[0])).toEqual([
      'no training script found (looked for train.py, train.ts, train.mjs, train.js, main.py)',
      'no evaluation harness or data folder found',
      'could not tell which metric to optimize',
      'no time budget constant (TIME_BUDGET = <seconds>) found',
      'declare research.params (the search space) and read them in the script from strata.params.json, or use proposer',
    ]);
    expect(() => parseConfig(renderInitConfig(detection))).not.toThrow();
  });

  it('a Node script printing METRIC lines', () => {
    const detection = detectProject(folder({ 'train.mjs': 'console.log(`METRIC val_loss=${loss}`)\n', 'prepare.ts': 'export const TRAIN_SECONDS = 12;\n' }), machine([]));
    expect(detection.run?.value).toBe('node train.mjs');
    expect(detection.metric?.value).toEqual({ name: 'val_loss', goal: 'minimize', pattern: '^METRIC val_loss=(\\S+)' });
    expect(detection.protected.value).toEqual(['prepare.ts']);
  });
});

describe('reading scripts and programs', () => {
  it('finds printed names in source order, and the summary after ---', () => {
    expect(printedMetricNames(TRAIN_PY)).toEqual(['val_bpb', 'training_seconds', 'total_seconds', 'peak_vram_mb', 'mfu_percent', 'num_steps']);
    expect(summaryMetricNames('print(f"loss: {x}")\nprint("---")\nprint("acc:", a)\n')).toEqual(['acc']);
    expect(printedMetricNames("console.log('val_acc:', acc); console.log(`METRIC tokens=${n}`)")).toEqual(['val_acc', 'tokens']);
  });

  it('reads time budget constants', () => {
    expect(timeBudget('TIME_BUDGET = 300        # seconds')).toEqual({ seconds: 300, constant: 'TIME_BUDGET' });
    expect(timeBudget('x = 1\nTRAIN_SECONDS: int = 5 * 60\n')).toEqual({ seconds: 300, constant: 'TRAIN_SECONDS' });
    expect(timeBudget('export const TRAIN_SECONDS = 12;')).toBeUndefined();
    expect(timeBudget('def f():\n    budget = TIME_BUDGET\n')).toBeUndefined();
  });

  it('pads budgets: +20% or 30 s, whole minutes above two', () => {
    expect([budgetAbove(300), budgetAbove(30), budgetAbove(120), budgetAbove(5)]).toEqual([360, 60, 180, 40]);
  });

  it('reads goals from names and program.md', () => {
    expect([goalFromName('val_bpb'), goalFromName('val_acc'), goalFromName('score'), goalFromName('peak_vram_mb')]).toEqual(['minimize', 'maximize', 'maximize', undefined]);
    const hints = programHints('**The goal is simple: get the lowest val_bpb.**\n`grep "^val_bpb:\\|^peak_vram_mb:" run.log`\nlaunch: `uv run train.py`');
    expect(hints.grepped).toEqual(['val_bpb', 'peak_vram_mb']);
    expect(hints.goalFor('val_bpb')).toBe('minimize');
    expect(hints.runCommand).toBe('uv run train.py');
  });
});
