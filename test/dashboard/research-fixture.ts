import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import type { Proposal, ProposalContext, Proposer } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { recordCallFinished, recordCallStarted } from '../../src/llm/call-ledger.ts';
import { runResearch } from '../../src/research/run-research.ts';

/** A description that must render as text, never as markup. */
export const HOSTILE_DESCRIPTION = 'try <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> tags';

/** A tiny "training script": loss depends on LR and WIDTH; prints a few log lines and the metric. */
const TRAIN = `const LR = 0.1;
const WIDTH = 32;
const MODE = 'ok';
// Simulated training: the loss is lowest near LR=0.3 and grows with a narrow model.
for (let step = 1; step <= 5; step++) console.log(\`step \${step * 100} loss \${(3 - step * 0.2).toFixed(3)}\`);
if (MODE === 'crash') throw new Error('CUDA out of memory (simulated)');
if (MODE === 'hang') await new Promise((resolve) => setTimeout(resolve, 60_000));
const loss = 2 + 0.5 * (Math.log10(LR) - Math.log10(0.3)) ** 2 + 8 / WIDTH;
console.log(\`METRIC loss=\${loss.toFixed(5)}\`);
`;

/** The scripted edits: each is what a coding agent might try, applied to train.mjs. */
const EDITS: { description: string; apply(source: string): string }[] = [
  { description: 'raise the learning rate to 0.3', apply: (s) => s.replace('LR = 0.1', 'LR = 0.3') },
  { description: 'double the model width to 64', apply: (s) => s.replace('WIDTH = 32', 'WIDTH = 64') },
  { description: 'learning rate 1.0 (too hot)', apply: (s) => s.replace(/LR = [\d.]+/, 'LR = 1.0') },
  { description: 'fused attention kernel (runs out of memory)', apply: (s) => s.replace("MODE = 'ok'", "MODE = 'crash'") },
  { description: HOSTILE_DESCRIPTION, apply: (s) => s.replace(/WIDTH = \d+/, 'WIDTH = 48') },
  { description: 'width 128 with the tuned learning rate', apply: (s) => s.replace(/WIDTH = \d+/, 'WIDTH = 128') },
  { description: 'learning rate 0.25', apply: (s) => s.replace(/LR = [\d.]+/, 'LR = 0.25') },
  { description: 'deeper warmup schedule (hangs)', apply: (s) => s.replace("MODE = 'ok'", "MODE = 'hang'") },
  { description: 'width 256', apply: (s) => s.replace(/WIDTH = \d+/, 'WIDTH = 256') },
];

/** Proposes the scripted edits in order; a real Proposer driven by the real loop. */
export class ScriptedProposer implements Proposer {
  readonly name = 'agent/scripted';
  async propose(context: ProposalContext): Promise<Proposal> {
    // The next edit not tried yet, whatever the trial numbers (baseline repeats, re-runs) and across resumes.
    const tried = new Set([...context.history, ...context.inFlight].map((trial) => trial.description));
    const edit = EDITS.find((candidate) => !tried.has(candidate.description)) ?? EDITS[context.seq % EDITS.length]!;
    const file = join(context.projectDir, 'train.mjs');
    writeFileSync(file, edit.apply(readFileSync(file, 'utf8')));
    return { description: edit.description, meta: { hypothesis: `scripted edit ${context.seq}`, acceptance: { rule: 'strict' } } };
  }
}

export interface ResearchFixture {
  dir: string;
  ledgerPath: string;
  configPath: string;
  studyName: string;
  /** Run the study further, up to `maxTrials` trials in all (resumes it). */
  extend(maxTrials: number): Promise<void>;
}

/** The scripted study overrides the proposer, so its config is the search one (a params section keeps it valid). */
function configText(name: string, maxTrials: number): string {
  return `name: ${name}
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 2s
  grace: 1s
  metric: {name: loss, goal: minimize}
  acceptance: {rule: strict, recheck_every: 0}
  params:\n    x: {type: float, low: -5, high: 5}\n  search: {sampler: random, seed: 3}\n  max_trials: ${maxTrials}
`;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

/**
 * A real research study in a temp git repository: the real loop, real git
 * worktrees, real trainer processes. `scripted` edits code (keeps, discards,
 * a crash, a hostile description); `search` tunes a parameter.
 */
export async function researchFixture(options: { maxTrials: number; proposer?: 'scripted' | 'search'; name?: string }): Promise<ResearchFixture> {
  const proposerKind = options.proposer ?? 'scripted';
  const name = options.name ?? (proposerKind === 'search' ? 'quad-search' : 'tiny-agent');
  const dir = mkdtempSync(join(tmpdir(), 'strata-dashboard-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(
    join(dir, 'train.mjs'),
    proposerKind === 'search'
      ? `import { existsSync, readFileSync } from 'node:fs';\nconst p = existsSync('strata.params.json') ? JSON.parse(readFileSync('strata.params.json', 'utf8')) : { x: 3 };\nconsole.log('METRIC loss=' + ((p.x - 1) ** 2 + 0.5));\n`
      : TRAIN,
  );
  const configPath = join(dir, 'strata.yaml');
  writeFileSync(configPath, configText(name, options.maxTrials));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  const ledgerPath = join(dir, '.strata', 'ledger.db');
  const run = async (maxTrials: number) => {
    writeFileSync(configPath, configText(name, maxTrials));
    await runResearch({ configPath, config: parseConfig(readFileSync(configPath, 'utf8')), ...(proposerKind === 'scripted' ? { proposer: new ScriptedProposer() } : {}) });
  };
  await run(options.maxTrials);
  if (proposerKind === 'scripted') recordProposerCalls(ledgerPath, name);
  return { dir, ledgerPath, configPath, studyName: name, extend: run };
}

/** What an LLM proposer would have written: one call per candidate trial, with its cost. */
function recordProposerCalls(ledgerPath: string, studyName: string): void {
  const ledger = Ledger.open(ledgerPath);
  try {
    const study = ledger.studyByName(studyName)!;
    for (const trial of ledger.trials(study.id).filter((t) => t.role === 'candidate')) {
      const callId = recordCallStarted(ledger, {
        studyId: study.id,
        trialId: trial.id,
        candidateId: null,
        role: 'proposer',
        model: 'openai:gpt-4.1-mini',
        reservedUsd: 0.01,
        request: { messages: [{ role: 'user', content: `propose trial ${trial.seq}` }] },
      });
      recordCallFinished(
        ledger,
        callId,
        { inputTokens: 1200 + trial.seq, outputTokens: 300, usd: 0.0009 + trial.seq * 0.0001, latencyMs: 850, finishReason: 'stop', error: null, responseText: `I will ${trial.description}` },
        study.id,
      );
    }
  } finally {
    ledger.close();
  }
}
