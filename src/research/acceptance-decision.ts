/**
 * The decision on a trial that measured a valid metric, with every rerun the
 * acceptance rule asks for. The evidence is the runs of each commit (a
 * trial's own run and every repeat of the same commit), so it survives a
 * restart: a decision cut short by a kill picks up the reruns it had.
 *
 * - baseline: repeated until the rule's `baselineRuns` runs of the base
 *   commit exist (1 by default), then kept; the rule asks for more runs of it
 *   later, as the incumbent, when a decision needs them;
 * - candidate: sanity limits first (a value outside valid_range is rerun and
 *   never kept; a jump beyond max_improvement_factor needs a second run
 *   before a keep), then the rule, looking again after each rerun of the
 *   candidate or the incumbent until it keeps or discards; the rule is told
 *   which of the incumbent's runs came after its own keep (unbiased);
 * - every `recheck_every` candidate decisions, the incumbent is run again
 *   first and compared with the best it replaced; status says when it no
 *   longer beats it.
 * The decision lock is released while a rerun runs, so other slots can decide.
 */
import type { Acceptance, AcceptanceDecision } from '../core/acceptance.ts';
import { REPEAT_ROLES, type MetricGoal, type TrialCause } from '../core/trial.ts';
import { formatNumber } from '../acceptance/format-number.ts';
import { mean, pooledNoise } from '../acceptance/noise-estimate.ts';
import { checkSanity } from '../acceptance/sanity-limits.ts';
import type { TrialRecord } from '../ledger/records.ts';
import type { TrialDependencies } from './execute-trial.ts';
import type { OpenedStudy } from './open-study.ts';
import { runRepeat, sanityLimits } from './repeat-run.ts';
import type { TrialAssessment } from '../ledger/events.ts';

/** How the decision lock is handed back while a rerun runs. */
export interface DecisionLockControl {
  release(): void;
  acquire(): Promise<void>;
}

export interface TrialDecision {
  /** `interrupted`: the study stopped before the decision was made; the trial stays measured and the decision resumes. */
  status: 'keep' | 'discard' | 'invalid' | 'crash' | 'timeout' | 'interrupted';
  cause: Extract<TrialCause, 'run' | 'baseline-unreliable' | 'stopped'>;
  reason: string;
  /** The incumbent when the decision was made (reruns may take long, and other slots may keep meanwhile). */
  best: TrialRecord | undefined;
}

/** Never more looks than this in one decision, whatever a custom rule asks. */
const MAX_LOOKS = 50;

/**
 * Decide a trial whose own run measured `metric` (still `running` in the ledger).
 *
 * @example
 * const decision = await decideTrial(opened, trial, 2.31, deps, lock, staged.notes);
 * if (decision.status === 'keep') await keep(trial, decision.best);
 */
export async function decideTrial(
  opened: OpenedStudy,
  trial: TrialRecord,
  metric: number,
  deps: TrialDependencies,
  lock: DecisionLockControl,
  stageNotes: readonly string[],
): Promise<TrialDecision> {
  const { research } = opened;
  const goal = research.metric.goal;
  const notes = [...stageNotes];
  const withNotes = (reason: string) => (notes.length > 0 ? `${reason}; ${notes.join('; ')}` : reason);
  let best = currentBest(opened);

  if ((REPEAT_ROLES as readonly string[]).includes(trial.role)) {
    // A repeat re-queued after an interruption: it only adds its measurement.
    return { status: 'discard', cause: 'run', reason: withNotes(`measured ${research.metric.name}=${metric} (repeat of #${trial.relatedTrialId === null ? '?' : opened.ledger.trial(trial.relatedTrialId).seq})`), best };
  }
  const assess = (assessment: Omit<TrialAssessment, 'rule' | 'notes'>) =>
    opened.ledger.record('trial.assessed', { trialId: trial.id, assessment: { rule: deps.acceptance.name, notes, ...assessment } }, { studyId: opened.study.id, trialId: trial.id });

  const range = checkSanity(metric, { goal, incumbent: undefined, limits: sanityLimits(opened) });
  if (trial.role === 'baseline') {
    if (range) return { status: 'invalid', cause: 'run', reason: withNotes(`the baseline's ${range.reason}: fix research.metric.valid_range or the metric`), best };
    return decideBaseline(opened, trial, metric, deps, lock, notes, assess);
  }
  if (trial.role === 'screen' || best === undefined || best.metric === null) return { status: 'keep', cause: 'run', reason: withNotes('first valid result'), best };

  await maybeRecheckIncumbent(opened, deps, lock, trial);
  best = currentBest(opened)!;

  const own: number[] = [];
  let suspect: string | null = null;
  if (range) {
    // Not a real value: never a sample. A rerun shows whether it was a glitch; a second one outside is the end.
    suspect = range.reason;
    notes.push(`suspect: ${range.reason}`);
    lock.release();
    const again = await runRepeat(opened, deps, { role: 'rerun', of: trial, relatedTo: trial, label: `rerun 1 of #${trial.seq} (suspect)` });
    await lock.acquire();
    best = currentBest(opened)!;
    if (again.metric === null) return { status: again.trial.status === 'interrupted' ? 'interrupted' : 'invalid', cause: again.trial.status === 'interrupted' ? 'stopped' : 'run', reason: withNotes(`${range.reason}, and its rerun did not confirm a valid value (${again.failure})`), best };
  } else {
    own.push(metric);
    const jump = checkSanity(metric, { goal, incumbent: mean(runsOfCommit(opened, best.candidateCommit!)), limits: sanityLimits(opened) });
    if (jump) {
      suspect = jump.reason;
      notes.push(`suspect: ${jump.reason}`);
    }
  }

  for (let look = 1; ; look++) {
    const candidateRuns = [...runsOfCommit(opened, trial.candidateCommit!), ...own];
    const incumbentRuns = runsOfCommit(opened, best.candidateCommit!);
    let decision: AcceptanceDecision = deps.acceptance.decide({
      goal,
      candidate: candidateRuns,
      incumbent: incumbentRuns,
      incumbentFreshRuns: freshRunsOf(opened, best),
      otherRuns: otherCommitRuns(opened, [trial.candidateCommit!, best.candidateCommit!]),
      look,
    });
    if (decision.keep && suspect !== null && candidateRuns.length < 2) {
      decision = { ...decision, keep: false, rerun: 'candidate', reason: `suspect (${suspect}): confirming with a rerun before it can be kept` };
    }
    if (!decision.rerun || look >= MAX_LOOKS) {
      const reason = suspect !== null && decision.keep ? `${decision.reason} (suspect jump confirmed by ${candidateRuns.length} runs)` : decision.reason;
      assess({ runs: candidateRuns.length, looks: look, evidence: decision.evidence ?? null, suspect });
      return { status: decision.keep ? 'keep' : 'discard', cause: 'run', reason: withNotes(reason), best };
    }
    const side = decision.rerun === 'candidate' ? trial : best;
    lock.release();
    const again = await runRepeat(opened, deps, {
      role: 'rerun',
      of: side,
      relatedTo: side,
      label: `rerun of #${side.seq} for #${trial.seq} (look ${look + 1})`,
    });
    await lock.acquire();
    best = currentBest(opened)!;
    notes.push(...again.notes.map((note) => `rerun #${again.trial.seq}: ${note}`));
    if (again.metric === null) {
      assess({ runs: candidateRuns.length, looks: look, evidence: decision.evidence ?? null, suspect });
      const whose = decision.rerun === 'candidate' ? 'its rerun' : `the incumbent's rerun`;
      const status = again.trial.status === 'interrupted' ? 'interrupted' : decision.rerun === 'candidate' && again.trial.status === 'invalid' ? 'invalid' : 'discard';
      return { status, cause: status === 'interrupted' ? 'stopped' : 'run', reason: withNotes(`${whose} ${again.failure}: not kept`), best };
    }
  }
}

async function decideBaseline(
  opened: OpenedStudy,
  trial: TrialRecord,
  metric: number,
  deps: TrialDependencies,
  lock: DecisionLockControl,
  notes: string[],
  assess: (assessment: Omit<TrialAssessment, 'rule' | 'notes'>) => void,
): Promise<TrialDecision> {
  const wanted = deps.acceptance.baselineRuns ?? 1;
  const commit = trial.candidateCommit!;
  // A repeat that fails (a slow node, a transient error) is tried once more with a new seed; two failures in a row end it.
  const failures: string[] = [];
  let repeats = 0;
  while (runsOfCommit(opened, commit).length + 1 < wanted && repeats < wanted + MAX_LOOKS) {
    repeats += 1;
    lock.release();
    const again = await runRepeat(opened, deps, { role: 'baseline-repeat', of: trial, relatedTo: trial, label: `baseline repeat ${runsOfCommit(opened, commit).length + 2} of ${wanted}` });
    await lock.acquire();
    if (again.metric !== null) {
      failures.length = 0;
      continue;
    }
    if (again.trial.status === 'interrupted') return { status: 'interrupted', cause: 'stopped', reason: 'stopped during the baseline repeats', best: currentBest(opened) };
    failures.push(again.failure ?? `#${again.trial.seq} ${again.trial.status}`);
    if (failures.length >= 2) {
      return {
        status: 'discard',
        cause: 'baseline-unreliable',
        reason: `measured ${formatNumber(metric)}, but its repeat runs failed twice in a row (${failures.join('; ')}): the unmodified code must run reliably before candidates can be judged`,
        best: currentBest(opened),
      };
    }
  }
  const runs = [...runsOfCommit(opened, commit), metric];
  const noise = pooledNoise([runs]);
  assess({ runs: runs.length, looks: 1, evidence: null, suspect: null });
  const retried = repeats > runs.length - 1 ? `; ${repeats - (runs.length - 1)} failed repeat(s) retried with a new seed` : '';
  if (runs.length === 1) return { status: 'keep', cause: 'run', reason: notes.length > 0 ? `baseline; ${notes.join('; ')}` : 'baseline', best: currentBest(opened) };
  const summary = `baseline: ${runs.length} runs with different seeds, mean ${formatNumber(mean(runs))}, run-to-run sd ${formatNumber(noise.sd)}${retried}`;
  const deterministic = noise.sd === 0 ? ' (identical: does the run use STRATA_SEED?)' : '';
  return { status: 'keep', cause: 'run', reason: `${summary}${deterministic}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`, best: currentBest(opened) };
}

/**
 * Every `recheck_every` candidate decisions, run the incumbent again and ask
 * the rule (at its last look) whether it still beats the best it replaced.
 */
async function maybeRecheckIncumbent(opened: OpenedStudy, deps: TrialDependencies, lock: DecisionLockControl, trial: TrialRecord): Promise<void> {
  const every = opened.research.acceptance.recheckEvery;
  if (every <= 0) return;
  const { ledger, study } = opened;
  const trials = ledger.trials(study.id);
  const decided = trials.filter((other) => other.role === 'candidate' && other.id !== trial.id && (other.status === 'keep' || other.status === 'discard'));
  if (decided.length === 0 || decided.length % every !== 0) return;
  const best = currentBest(opened);
  if (!best || best.role === 'baseline' || best.candidateCommit === null) return;
  // Once per count: a resumed session must not check again for the same decisions.
  const lastDecided = Math.max(...decided.map((other) => other.seq));
  // An interrupted check measured nothing: the resumed decision runs it again.
  if (trials.some((other) => other.role === 'incumbent-check' && other.relatedTrialId === best.id && other.seq > lastDecided && other.status !== 'interrupted')) return;
  lock.release();
  const again = await runRepeat(opened, deps, { role: 'incumbent-check', of: best, relatedTo: best, label: `re-check of the incumbent #${best.seq} after ${decided.length} decisions` });
  await lock.acquire();
  const parent = ledger.trials(study.id).find((other) => other.keptCommit !== null && other.keptCommit === best.parentCommit);
  if (!parent || parent.candidateCommit === null) return;
  const goal: MetricGoal = opened.research.metric.goal;
  const decision = again.metric === null ? null : deps.acceptance.decide({
    goal,
    candidate: runsOfCommit(opened, best.candidateCommit),
    incumbent: runsOfCommit(opened, parent.candidateCommit),
    incumbentFreshRuns: freshRunsOf(opened, parent),
    otherRuns: otherCommitRuns(opened, [best.candidateCommit, parent.candidateCommit]),
    look: Number.MAX_SAFE_INTEGER,
  });
  const stillBetter = decision?.keep ?? false;
  const reason =
    decision === null
      ? `the re-check run failed (${again.failure})`
      : stillBetter
        ? `still beats #${parent.seq}: ${decision.reason}`
        : `no longer beats the best it replaced (#${parent.seq}): ${decision.reason}`;
  ledger.record('trial.rechecked', { studyId: study.id, trialId: best.id, parentTrialId: parent.id, checkTrialId: again.trial.id, stillBetter, reason }, { studyId: study.id, trialId: best.id });
  if (!stillBetter) opened.warnings.push(`incumbent #${best.seq} ${reason}`);
}

/**
 * Every valid measurement of a commit at the full budget: trials of any role that ended keep or discard, except
 * verify runs (`strata verify` may run at another budget or setting, and must never change what the study decided).
 */
export function runsOfCommit(opened: OpenedStudy, commit: string): number[] {
  return opened.ledger
    .trials(opened.study.id)
    .filter((trial) => trial.candidateCommit === commit && trial.role !== 'screen' && trial.role !== 'verify' && (trial.status === 'keep' || trial.status === 'discard') && trial.metric !== null)
    .map((trial) => trial.metric!);
}

/**
 * How many runs of a kept trial's commit were measured after its decision: those are unbiased, while the runs that got
 * it kept looked good by selection (the winner's curse). All of the baseline's runs count: nothing selected it.
 */
export function freshRunsOf(opened: OpenedStudy, kept: TrialRecord): number {
  const commit = kept.candidateCommit!;
  const runs = runsOfCommit(opened, commit).length;
  if (kept.role === 'baseline' || kept.endedAt === null) return kept.role === 'baseline' ? runs : 0;
  const decidedAt = kept.endedAt;
  return opened.ledger
    .trials(opened.study.id)
    .filter((trial) => trial.candidateCommit === commit && trial.id !== kept.id && trial.role !== 'screen' && trial.role !== 'verify' && (trial.status === 'keep' || trial.status === 'discard') && trial.metric !== null && trial.queuedAt > decidedAt).length;
}

/** The runs of every other commit measured more than once: they sharpen the noise estimate. */
function otherCommitRuns(opened: OpenedStudy, exclude: readonly string[]): number[][] {
  const groups = new Map<string, number[]>();
  for (const trial of opened.ledger.trials(opened.study.id)) {
    if (trial.candidateCommit === null || exclude.includes(trial.candidateCommit) || trial.role === 'screen' || trial.role === 'verify') continue;
    if ((trial.status !== 'keep' && trial.status !== 'discard') || trial.metric === null) continue;
    const group = groups.get(trial.candidateCommit) ?? [];
    group.push(trial.metric);
    groups.set(trial.candidateCommit, group);
  }
  return [...groups.values()].filter((group) => group.length > 1);
}

function currentBest(opened: OpenedStudy): TrialRecord | undefined {
  const id = opened.ledger.study(opened.study.id).bestTrialId;
  return id === null ? undefined : opened.ledger.trial(id);
}

/** A trial's reason with what its stages noticed appended (the memory limit, leftover processes). */
export function withStageNotes(reason: string | null, notes: readonly string[]): string | null {
  if (notes.length === 0) return reason;
  return reason === null ? notes.join('; ') : `${reason}; ${notes.join('; ')}`;
}
