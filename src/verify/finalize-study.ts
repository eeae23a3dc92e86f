/**
 * `strata finalize`: a clean linear branch from the study's base with one
 * commit per *needed* change (as the last verify measured it), in lineage
 * order, each message holding the change's description and measured
 * contribution; changes within the noise are left out. The branch's tree is
 * then verified against the baseline (a verify of purpose `finalize`), and
 * only then is the branch written, so it is exactly what was measured; a
 * Markdown summary for the pull request goes beside the ledger.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StudyConfig } from '../core/config/parse-config.ts';
import { formatDuration } from '../core/duration.ts';
import type { MetricGoal } from '../core/trial.ts';
import { StudyStateError } from '../core/errors.ts';
import { Ledger } from '../ledger/ledger.ts';
import { summarizeStudy } from '../research/study-summary.ts';
import { git } from '../workspace/git.ts';
import { ledgerPathFor } from '../workspace/state-dir.ts';
import { StudyRepository } from '../workspace/study-repository.ts';
import { applyPatchOnto, changePatch, treeOf } from './change-patches.ts';
import { describeComparison } from './describe-comparison.ts';
import { runVerify, type VerifyObserver } from './run-verify.ts';
import { keptLineage, verifyPlans, verifyResult, type Contribution, type VerifyResult } from './verify-record.ts';
import { formatNumber } from '../acceptance/format-number.ts';

export interface FinalizeOptions {
  configPath: string;
  config: StudyConfig;
  /** Default strata/<name>-final. */
  branch?: string;
  signal?: AbortSignal;
  observer?: VerifyObserver;
  /**
   * `strata finalize --verify`: when the study has no finished verify of its current best, run one first
   * with these settings (resuming an unfinished one made with them), reported through `verifyObserver`.
   */
  verifyFirst?: { repeats: number; observer?: VerifyObserver; onResult?: (result: VerifyResult) => void };
}

export interface FinalizeResult {
  branch: string;
  commit: string;
  included: Contribution[];
  leftOut: Contribution[];
  /** The verify the branch was built from, and the re-verification of its tree; null while the latter is unfinished. */
  verify: VerifyResult;
  check: VerifyResult;
  summaryPath: string | null;
}

/**
 * Build, re-verify and write the final branch.
 *
 * @example
 * const final = await finalizeStudy({ configPath: 'strata.yaml', config });
 * console.log(final.branch, final.summaryPath);
 */
export async function finalizeStudy(options: FinalizeOptions): Promise<FinalizeResult> {
  const name = options.config.name;
  const branch = options.branch ?? `strata/${name}-final`;
  const repo = await StudyRepository.open(dirname(options.configPath));
  const ledgerPath = ledgerPathFor(dirname(options.configPath));
  if (options.verifyFirst && missingVerify(ledgerPath, name, options.config.research!.metric.goal) !== null) {
    const first = await runVerify({
      configPath: options.configPath,
      config: options.config,
      repeats: options.verifyFirst.repeats,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.verifyFirst.observer ? { observer: options.verifyFirst.observer } : {}),
    });
    options.verifyFirst.onResult?.(first);
    if (first.plan.finished === null) throw new StudyStateError(`the verify stopped before it finished (${first.stopped ?? 'unfinished'}): run strata finalize --verify again to resume it; nothing was finalized`);
  }
  const missing = missingVerify(ledgerPath, name, options.config.research!.metric.goal);
  if (missing !== null) throw new StudyStateError(missing);
  const ledger = Ledger.openForReading(ledgerPath);
  let verify: VerifyResult;
  let parts: { included: Contribution[]; leftOut: Contribution[]; commit: string };
  try {
    const study = ledger.studyByName(name);
    if (!study) throw new StudyStateError(`no study "${name}" in ${ledgerPath}: run strata research, then strata verify, first`);
    const plan = verifyPlans(ledger, study.id).filter((item) => item.purpose === 'verify' && item.finished?.complete).at(-1)!;
    verify = verifyResult(ledger.trials(study.id), study, plan, options.config.research!.metric.goal);
    // A change that could not be left out (its inverse diff conflicted) was never shown unnecessary: it stays.
    const included = verify.contributions.filter((item) => item.verdict === 'needed' || item.verdict === 'conflict' || item.verdict === 'unmeasured');
    const leftOut = verify.contributions.filter((item) => !included.includes(item));
    const lineage = keptLineage(ledger.trials(study.id), ledger.trial(plan.bestTrialId), study.baseCommit!);
    let tip = study.baseCommit!;
    const done: string[] = [];
    for (const change of lineage) {
      const contribution = included.find((item) => item.change.id === change.trial.id);
      if (!contribution) continue;
      const patch = await changePatch(repo, change.parentCommit, change.keptCommit);
      const message = `${change.trial.description || `strata trial #${change.trial.seq}`}\n\nMeasured contribution: ${contribution.comparison ? describeComparison(contribution.comparison) : contribution.verdict === 'conflict' ? 'not measured (it could not be left out of the best)' : 'not measured'}\nStrata study ${name}, trial #${change.trial.seq}, verify ${plan.verifyId}\n`;
      const applied = await applyPatchOnto(repo, tip, patch, { reverse: false, message });
      if (applied.conflict !== undefined) {
        throw new StudyStateError(
          `change #${change.trial.seq} does not apply without the changes left out (${leftOut.map((item) => `#${item.change.seq}`).join(', ')}${done.length ? `; applied so far: ${done.join(', ')}` : ''}): ${applied.conflict}. It depends on one of them: finalize cannot drop it; merge ${`strata/${name}`} instead, or rerun strata verify with more --repeats`,
        );
      }
      tip = applied.commit;
      done.push(`#${change.trial.seq}`);
    }
    if (tip === study.baseCommit) throw new StudyStateError(`no change of study "${name}" was measured as needed: there is nothing to finalize (the verify found every kept change within the noise)`);
    // A finalize cut short by a kill resumes its re-verification when the tree is the same.
    const tree = await treeOf(repo, tip);
    for (const earlier of verifyPlans(ledger, study.id).filter((item) => item.purpose === 'finalize' && item.basedOnVerifyId === plan.verifyId)) {
      const final = earlier.arms.find((arm) => arm.kind === 'final');
      if (final && (await treeOf(repo, final.commit)) === tree) tip = final.commit;
    }
    parts = { included, leftOut, commit: tip };
  } finally {
    ledger.close();
  }

  const research = options.config.research!;
  const check = await runVerify({
    configPath: options.configPath,
    config: options.config,
    purpose: 'finalize',
    repeats: verify.plan.repeats,
    budgetFactor: verify.plan.budgetMs / research.budgetMs,
    env: verify.plan.env,
    final: { commit: parts.commit, basedOnVerifyId: verify.plan.verifyId },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const result: FinalizeResult = { branch, ...parts, verify, check, summaryPath: null };
  if (check.plan.finished === null) return result;

  const existing = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], repo.root, { allowFailure: true });
  const current = existing.exitCode === 0 ? existing.stdout.trim() : null;
  if (current !== null && current !== parts.commit && (await treeOf(repo, current)) !== (await treeOf(repo, parts.commit))) {
    throw new StudyStateError(`branch ${branch} exists and holds other code: delete it (git branch -D ${branch}) or pass --branch NAME; the verified commit is ${parts.commit}`);
  }
  if (current === null) await git(['update-ref', `refs/heads/${branch}`, parts.commit, ''], repo.root);
  result.summaryPath = join(repo.stateDir, `${name.replaceAll('/', '-')}-final.md`);
  await writeFile(result.summaryPath, summaryMarkdown(options, result, ledgerPath));
  return result;
}

/**
 * Why the study cannot be finalized for want of a verify, naming the fix (and the offer to run one:
 * `strata finalize --verify`); null when its last finished verify measured its current best.
 */
function missingVerify(ledgerPath: string, name: string, goal: MetricGoal): string | null {
  const ledger = Ledger.openForReading(ledgerPath);
  try {
    const study = ledger.studyByName(name);
    if (!study) return `no study "${name}" in ${ledgerPath}: run strata research, then strata verify, first`;
    const plans = verifyPlans(ledger, study.id).filter((item) => item.purpose === 'verify');
    const finished = plans.filter((item) => item.finished?.complete).at(-1);
    const offer = 'or `strata finalize --verify` to run one now and finalize after it';
    if (finished && finished.bestTrialId === study.bestTrialId) return null;
    if (finished) {
      return `study "${name}" kept more since its last verify (best #${ledger.trial(study.bestTrialId!).seq}, verified #${ledger.trial(finished.bestTrialId).seq}): run \`strata verify\` again first, ${offer}`;
    }
    const unfinished = plans.at(-1);
    if (unfinished) {
      const runs = verifyResult(ledger.trials(study.id), study, unfinished, goal).runs;
      return `study "${name}" has no finished verify: verify ${unfinished.verifyId} stopped after ${runs.done} of ${runs.planned} runs; run \`strata verify\` again to finish it (with the same settings it resumes), ${offer}`;
    }
    return `study "${name}" has no verify yet, and finalize keeps only the changes a verify measured as needed: run \`strata verify\` first, ${offer}`;
  } finally {
    ledger.close();
  }
}

/** The pull-request description: what changed, what each change is worth, what the night cost. */
function summaryMarkdown(options: FinalizeOptions, result: FinalizeResult, ledgerPath: string): string {
  const ledger = Ledger.openForReading(ledgerPath);
  try {
    const study = ledger.studyByName(options.config.name)!;
    const summary = summarizeStudy(ledger, study);
    const metric = options.config.research!.metric;
    const row = (item: Contribution) =>
      `| #${item.change.seq} | ${item.change.description.replaceAll('|', '\\|').slice(0, 120)} | ${item.comparison ? describeComparison(item.comparison) : item.conflict ?? '-'} |`;
    const runs = ledger.trials(study.id);
    const lines = [
      `# ${options.config.name}: ${result.included.length} change(s) from an automated study`,
      '',
      `Branch \`${result.branch}\` (${result.commit.slice(0, 12)}), built from the study's base ${study.baseCommit!.slice(0, 12)} with one commit per change measured as needed, in the order they were found. ${metric.goal === 'minimize' ? 'Lower' : 'Higher'} ${metric.name} is better; improvements are positive.`,
      '',
      '## Result',
      '',
      `- this branch vs the baseline: **${describeComparison(result.check.overall)}**, ${result.check.plan.repeats} interleaved runs each`,
      `- the study's best (all kept changes) vs the baseline: ${describeComparison(result.verify.overall)}`,
      summary.best?.holdout != null
        ? `- holdout (data the study never saw), the best: ${formatNumber(summary.best.holdout)} vs validation ${summary.best.metric === null ? '-' : formatNumber(summary.best.metric)}`
        : '- holdout: none configured (research.holdout)',
      '',
      '## Changes',
      '',
      'Contribution = the best minus the best without the change (leave-one-out), 95% Welch t interval.',
      '',
      '| trial | change | contribution |',
      '| --- | --- | --- |',
      ...result.included.map(row),
      '',
      result.leftOut.length > 0 ? '**Left out** (removing them costs nothing within the noise, or helps):' : 'Nothing was left out.',
      '',
      ...(result.leftOut.length > 0 ? ['| trial | change | contribution |', '| --- | --- | --- |', ...result.leftOut.map(row), ''] : []),
      '## Cost',
      '',
      `- trials run: ${runs.length} (${runs.filter((trial) => trial.role === 'verify').length} of them by verify and finalize)`,
      `- run time: ${formatDuration(runs.reduce((total, trial) => total + (trial.wallMs ?? 0), 0))}; study wall time ${formatDuration(summary.total_time_s * 1000)}`,
      `- LLM cost: $${summary.spend_usd.toFixed(2)}`,
      '',
      `Every number above is backed by trials in the ledger (\`strata status --study ${options.config.name} --all\`).`,
      '',
    ];
    return lines.join('\n');
  } finally {
    ledger.close();
  }
}
