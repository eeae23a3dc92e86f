/**
 * The stages of one trial run, each in the sandbox, with the protected files
 * checked around them:
 * 1. integrity before: the checkout's protected files are the study's;
 * 2. `run` in the trial's worktree, writing artifacts to $STRATA_ARTIFACTS;
 * 3. integrity after: the run changed nothing protected (else `invalid`,
 *    and nothing it printed is trusted);
 * 4. `evaluate`, when configured, in a fresh checkout of the base commit
 *    (or of the candidate with `evaluate_code: candidate`), reading the
 *    artifacts read-only; the metric comes from its output only.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ExecutionResult, Executor } from '../core/executor.ts';
import { parseMetrics, type MetricParseOptions } from '../executors/metric-parser.ts';
import { describeViolations } from '../integrity/compare-snapshots.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { LEFTOVER_MARKER } from '../sandbox/contain-command.ts';
import type { OpenedStudy } from './open-study.ts';
import { pruneArtifacts, studyTrust } from './study-trust.ts';

/** One run of a trial's stages. */
export interface TrialStagesInput {
  trial: TrialRecord;
  /** The slot's executor; the sandbox wraps it. */
  executor: Executor;
  signal: AbortSignal;
  /** The worktree checked out at the trial's commit. */
  worktree: string;
  logPath: string;
  /** The trial's environment (trialEnvironment); the sandbox scrubs it further. */
  env: Record<string, string>;
  limits: { budgetMs: number; graceMs: number };
  /** Re-attach to a job a killed orchestrator left running. */
  attachTo?: string;
  onOutput?: (chunk: string) => void;
}

export interface TrialStagesResult {
  /** What the metric is read from: the evaluate stage's result when there is one, else the run's. Null when nothing ran. */
  run: ExecutionResult | null;
  /** Set when the trial's result cannot be trusted; the trial ends `invalid` with this reason. */
  invalid: string | null;
  /** Things worth saying on the trial (leftover processes killed, an ignored metric line, the memory limit). */
  notes: string[];
}

/**
 * Run a trial's stages. Never throws for what the trial does; throws only
 * when Strata itself cannot work (git, the file system).
 *
 * @example
 * const staged = await runTrialStages(opened, { trial, executor, signal, worktree, logPath, env, limits });
 * if (staged.invalid) finish({ status: 'invalid', reason: staged.invalid });
 */
export async function runTrialStages(opened: OpenedStudy, input: TrialStagesInput): Promise<TrialStagesResult> {
  const { research, repo, study } = opened;
  const trust = studyTrust(opened);
  const { trial } = input;
  const projectDir = projectIn(opened, input.worktree);
  const notes: string[] = [];
  const name = `${trial.seq}-${trial.attempt}`;
  const artifacts = join(trust.artifactsDir, name);

  const before = await trust.guard.checkBeforeRun(projectDir);
  if (before.violations.length > 0) {
    await freshCheckout(opened, input.worktree, trial.candidateCommit ?? trial.parentCommit!);
    return { run: null, invalid: `protected files differ from the study's base commit before the run: ${describeViolations(before.violations)}`, notes };
  }
  if (!input.attachTo) {
    await pruneArtifacts(opened);
    await rm(artifacts, { recursive: true, force: true });
    await mkdir(artifacts, { recursive: true });
  }

  const runExecutor = trust.sandbox.executorFor(input.executor, { name: `${name}-run`, workdir: input.worktree, artifacts, artifactsWritable: true, readsHoldoutData: false });
  const run = await runExecutor.run({
    trialId: trial.id,
    command: research.run,
    cwd: projectDir,
    env: input.env,
    budgetMs: input.limits.budgetMs,
    graceMs: input.limits.graceMs,
    logPath: input.logPath,
    signal: input.signal,
    ...(input.attachTo ? { attachTo: input.attachTo } : {}),
    ...(input.onOutput ? { onOutput: input.onOutput } : {}),
  });
  notes.push(...sandboxNotes(run));

  const violations = await trust.guard.checkAfterRun(projectDir, before.snapshot);
  if (violations.length > 0) {
    // The worktree is reused by the slot's next trial: git would not restore every permission bit, so check it out anew.
    await freshCheckout(opened, input.worktree, trial.candidateCommit ?? trial.parentCommit!);
    return { run, invalid: `the run changed protected files, so nothing it printed is trusted: ${describeViolations(violations)}`, notes };
  }
  const evaluate = research.evaluate;
  if (!evaluate || run.status !== 'exited' || run.exitCode !== 0) return { run, invalid: null, notes };

  const metricOptions = { name: research.metric.name, ...(research.metric.pattern !== undefined ? { pattern: research.metric.pattern } : {}) };
  const printed = parseMetrics(run.output, metricOptions).primary;
  if (printed !== null) notes.push(`ignored ${research.metric.name}=${printed} printed by run: with research.evaluate the metric comes from the evaluate stage only`);
  const planted = await filesWithMetricLines(artifacts, metricOptions);
  if (planted.length > 0) notes.push(`ignored metric lines the run wrote into its artifacts (${planted.join(', ')}): the metric is read from the evaluate stage's own output only`);

  const checkout = `${input.worktree}-evaluate`;
  const commit = evaluate.code === 'candidate' ? trial.candidateCommit! : study.baseCommit!;
  await repo.prepareWorktree(checkout, commit);
  try {
    const evaluationDir = projectIn(opened, checkout);
    const pristine = await trust.guard.checkBeforeRun(evaluationDir);
    if (pristine.violations.length > 0) {
      await freshCheckout(opened, checkout, commit);
      return { run, invalid: `the evaluation checkout does not match the study's protected files: ${describeViolations(pristine.violations)}`, notes };
    }
    const evaluator = trust.sandbox.executorFor(input.executor, { name: `${name}-evaluate`, workdir: checkout, artifacts, artifactsWritable: false, readsHoldoutData: false });
    const evaluated = await evaluator.run({
      trialId: trial.id,
      command: evaluate.command,
      cwd: evaluationDir,
      env: { ...input.env, STRATA_STAGE: 'evaluate' },
      budgetMs: evaluate.budgetMs,
      graceMs: evaluate.graceMs,
      logPath: input.logPath.replace(/\.log$/, '') + '.evaluate.log',
      signal: input.signal,
      ...(input.onOutput ? { onOutput: input.onOutput } : {}),
    });
    notes.push(...sandboxNotes(evaluated).map((note) => `evaluate: ${note}`));
    // The evaluator may run the candidate's code (evaluate_code: candidate, a pickled model): what it changed is put back before git runs there again.
    const tampered = await trust.guard.checkAfterRun(evaluationDir, pristine.snapshot);
    if (tampered.length > 0) {
      await freshCheckout(opened, checkout, commit);
      return { run: combine(run, evaluated, evaluate.command), invalid: `the evaluate stage changed protected files, so nothing it printed is trusted: ${describeViolations(tampered)}`, notes };
    }
    return { run: combine(run, evaluated, evaluate.command), invalid: null, notes };
  } finally {
    await repo.cleanWorktree(checkout);
  }
}

/** Replace a checkout a trial tampered with by a new one of `commit`. */
async function freshCheckout(opened: OpenedStudy, checkout: string, commit: string): Promise<void> {
  await opened.repo.removeWorktree(checkout);
  await opened.repo.createWorktree(checkout, commit);
}

/** The project folder (the one holding strata.yaml) inside a checkout. */
export function projectIn(opened: OpenedStudy, checkout: string): string {
  return opened.projectPrefix ? join(checkout, opened.projectPrefix) : checkout;
}

/** What the sandbox reported about a run: OOM kills, leftover processes. */
export function sandboxNotes(result: ExecutionResult): string[] {
  const notes: string[] = [];
  const leftover = result.output.split('\n').find((line) => line.startsWith(LEFTOVER_MARKER));
  if (leftover) notes.push(`killed processes the trial left running:${leftover.slice(LEFTOVER_MARKER.length)}`);
  for (const part of (result.error ?? '').split('; ')) {
    if (part.startsWith('killed by the memory limit') || part.startsWith('killed ')) notes.push(part);
  }
  return [...new Set(notes)];
}

/** The evaluate stage's result, carrying the time and memory of both stages and the end of both logs. */
function combine(run: ExecutionResult, evaluated: ExecutionResult, command: string): ExecutionResult {
  return {
    ...evaluated,
    wallMs: run.wallMs + evaluated.wallMs,
    peakRssKb: run.peakRssKb === null ? evaluated.peakRssKb : Math.max(run.peakRssKb, evaluated.peakRssKb ?? 0),
    logTail: [...run.logTail.slice(-15), `--- evaluate: ${command} ---`, ...evaluated.logTail.slice(-35)],
  };
}

/** Small text files in the artifacts that hold a line the metric parser would read: a run trying to pass off a result. */
async function filesWithMetricLines(artifacts: string, options: MetricParseOptions): Promise<string[]> {
  const found: string[] = [];
  let looked = 0;
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      if (looked >= 200 || found.length >= 5) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile() && (await stat(path)).size <= 1024 * 1024) {
        looked += 1;
        const text = await readFile(path, 'utf8');
        if (!text.includes('\0') && parseMetrics(text, options).primary !== null) found.push(relative(artifacts, path));
      }
    }
  };
  await visit(artifacts);
  return found;
}
