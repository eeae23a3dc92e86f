import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');

/** A python3 on PATH (the fixture's train.py needs nothing beyond the standard library). */
const PYTHON = spawnSync('python3', ['--version']).status === 0;

/** The environment of the CLI: PATH with `extra` first, and no API keys, so init's choice does not depend on the machine. */
function cleanEnv(extra: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', PATH: `${extra}${delimiter}${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
  for (const name of ['HOME', 'TMPDIR', 'LANG']) if (process.env[name]) env[name] = process.env[name];
  return env;
}

const strata = (cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env, timeout: 180_000 });

describe('strata init then strata research, with nothing edited', () => {
  // Without python3 it is skipped with the reason in its title; in CI (CI=true, which installs python3) it always runs.
  it.skipIf(!PYTHON && process.env.CI !== 'true')(`runs an autoresearch-shaped repository with a coding agent found on PATH${PYTHON ? '' : ' — skipped: no python3 on PATH'}`, () => {
    // A tiny autoresearch: prepare.py fixes the budget and the evaluation, train.py has LR at the top.
    const repo = makeRepo({
      'prepare.py': 'TIME_BUDGET = 2        # training time budget in seconds\n\ndef evaluate_bpb(lr):\n    return 1.0 + (lr - 0.01) ** 2 * 1000\n',
      'train.py': 'from prepare import TIME_BUDGET, evaluate_bpb\nLR = 0.05\nval_bpb = evaluate_bpb(LR)\nprint("---")\nprint(f"val_bpb:          {val_bpb:.6f}")\nprint(f"peak_vram_mb:     {123.4:.1f}")\n',
      'program.md': '# autoresearch\n\n**The goal is simple: get the lowest val_bpb.**\n\n`grep "^val_bpb:\\|^peak_vram_mb:" run.log`\n',
    });
    // A stand-in for Claude Code: two ideas (LR 0.02 then 0.03), then it fails, which pauses the study after 5 failures.
    const bin = mkdtempSync(join(tmpdir(), 'strata-fake-agent-'));
    const counter = join(bin, 'count');
    writeFileSync(
      join(bin, 'claude'),
      `#!/bin/sh
cat > /dev/null
n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > '${counter}'
if [ "$n" -gt 2 ]; then echo "out of ideas" >&2; exit 1; fi
python3 - "$n" <<'PY'
import re, sys
text = open("train.py").read()
open("train.py", "w").write(re.sub(r"^LR = .*$", "LR = 0.0%d" % (int(sys.argv[1]) + 1), text, flags=re.M))
PY
echo "try LR 0.0$((n + 1))"
`,
    );
    chmodSync(join(bin, 'claude'), 0o755);
    const env = cleanEnv(bin);

    const init = strata(repo, env, 'init');
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toContain('(an autoresearch-style repository)');
    expect(init.stdout).toContain('proposer: command (claude -p --permission-mode acceptEdits)');
    const text = readFileSync(join(repo, 'strata.yaml'), 'utf8');
    expect(text).toContain('run: "python3 train.py"');
    expect(text).toContain('budget: 40s');

    // The agent's sandbox hides /tmp, where this stand-in and its counter live: name the folder, as a user would for an
    // agent kept outside its defaults. One proposal at a time (no speculation), so the two ideas run before it gives up.
    writeFileSync(join(repo, 'strata.yaml'), text.replace('research:\n', `research:\n  agent_sandbox: {writable: [${JSON.stringify(bin)}]}\n  executor: {speculate: false}\n`));
    gitIn(repo, 'add', 'strata.yaml');
    gitIn(repo, 'commit', '-q', '-m', 'agent folder');
    const research = strata(repo, env, 'research');
    expect(research.status, research.stderr + research.stdout).toBe(0);
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    let branch: string | null = null;
    try {
      branch = ledger.study(1).branch;
      // Whatever the acceptance rule (a noise-aware one may repeat the baseline), LR 0.02 wins and 0.03 is discarded.
      const trials = ledger.trials(1).filter((trial) => trial.candidateCommit !== null);
      expect(trials.every((trial) => trial.metrics?.peak_vram_mb === 123.4)).toBe(true);
      expect(trials.filter((trial) => trial.role === 'baseline').map((trial) => trial.metric)).toContain(2.6);
      expect(ledger.trial(ledger.study(1).bestTrialId!).metric).toBe(1.1);
      expect(trials.filter((trial) => trial.status === 'discard').map((trial) => trial.metric)).toContain(1.4);
      expect(ledger.study(1).state).toBe('paused');
    } finally {
      ledger.close();
    }
    expect(gitIn(repo, 'show', `${branch}:train.py`)).toContain('LR = 0.02');
  }, 180_000);

  it('writes an editor $schema reference that resolves from the repository (a Python one has no node_modules)', () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n' });
    const init = strata(repo, cleanEnv(''), 'init');
    expect(init.status, init.stderr).toBe(0);
    const modeline = readFileSync(join(repo, 'strata.yaml'), 'utf8').split('\n')[0]!;
    const reference = /^# yaml-language-server: \$schema=(.+)$/.exec(modeline)?.[1];
    expect(reference, modeline).toBeDefined();
    const schema = resolve(repo, reference!);
    expect(schema).toBe(resolve(import.meta.dirname, '../../schema/strata.schema.json'));
    expect(JSON.parse(readFileSync(schema, 'utf8'))).toHaveProperty('properties.research');
  });

  it('refuses to overwrite strata.yaml without --force', () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n', 'strata.yaml': 'name: mine\n' });
    const again = strata(repo, cleanEnv(''), 'init');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists; pass --force to overwrite it');
    expect(readFileSync(join(repo, 'strata.yaml'), 'utf8')).toBe('name: mine\n');
    const forced = strata(repo, cleanEnv(''), 'init', '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('TODO: could not tell which metric to optimize');
  });
});
