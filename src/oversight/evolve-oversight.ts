/**
 * Oversight of a running evolve study, through the engine's two hooks
 * (EngineOversight in evolve/types.ts): a graceful `strata pause` from
 * another process (the running iteration finishes first), the `pause_on`
 * conditions that have a meaning for evolve, and the notifications (new
 * best, paused, done, failed, budget warning).
 *
 * The conditions, for evolve:
 * - new_best: a candidate became the best on the validation set (not the seed);
 * - crash_streak: N iterations in a row whose reflection failed, or whose
 *   evaluations all failed (the evaluator threw or gave no score);
 * - spend_usd: LLM spend (reflection, task and judge models) crossed a multiple;
 * - holdout_gap: a new best scores worse on the held-out test split than the
 *   best it replaced, by more than the gap (each new best is scored on it);
 * - diff_lines has no meaning (candidates are texts, not code changes): the
 *   config refuses it (evolvePauseOnProblems).
 */
import { evolvePauseOnProblems, type OversightConfig } from '../core/config/oversight-config.ts';
import { ConfigError } from '../core/errors.ts';
import type { EngineOversight, EvolveBudget, IterationReport } from '../evolve/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { RequestedEnd, StudySession } from '../study/study-session.ts';
import { budgetWarningDue } from './budget-warning.ts';
import { Notifier } from './notifier.ts';
import { spendTrigger, type PauseTrigger } from './pause-on.ts';

export interface EvolveOversightOptions {
  ledger: Ledger;
  studyId: number;
  studyName: string;
  session: StudySession;
  config: OversightConfig;
  budget: EvolveBudget;
  /** Where the webhook URLs are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The engine's hooks, and the wait for notifications in flight before the ledger closes. */
export interface EvolveOversight extends EngineOversight {
  settle(): Promise<void>;
}

/**
 * Refuse `pause_on` conditions an evolve study cannot watch, at their path
 * (`optimize()`'s option names; strata.yaml's are checked with the config).
 *
 * @example
 * checkEvolveOversight(config, testset !== undefined); // throws ConfigError at oversight.pauseOn.diffLines
 */
export function checkEvolveOversight(config: OversightConfig | undefined, hasTest: boolean, path: (condition: string) => string, file?: string): void {
  if (!config) return;
  const problems = evolvePauseOnProblems(config.pauseOn, hasTest);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => ({ path: path(problem.condition), message: problem.message })), file);
}

/**
 * @example
 * const oversight = watchEvolve({ ledger, studyId, studyName, session, config: options.oversight, budget });
 * const engine = EvolveEngine.restore({ ...deps, oversight });
 */
export function watchEvolve(options: EvolveOversightOptions): EvolveOversight {
  const { ledger, studyId, session, config, budget } = options;
  const notifier = new Notifier({ ledger, studyId, studyName: options.studyName, targets: config.notify, ...(options.env ? { env: options.env } : {}) });
  const pauseOn = config.pauseOn;
  let due: RequestedEnd | undefined;
  let streak = 0;
  let warned = false;

  session.handleControl({
    pause: (end) => {
      due ??= end;
      return 'pausing after the running iteration finishes';
    },
    cancelPause: () => {
      if (!due) return 'not pausing; nothing to resume';
      due = undefined;
      return 'the pending pause is withdrawn; the study goes on';
    },
  });
  session.onEnd((state, reason) => {
    if (state === 'paused' || state === 'done' || state === 'failed') notifier.notify(state, `${state}: ${reason}`, { state, reason });
  });

  const trigger = (found: PauseTrigger) => {
    ledger.record('oversight.pause_triggered', { studyId, condition: found.condition, trialId: null, detail: found.detail, step: found.step ?? null }, { studyId });
    due ??= { state: 'paused', cause: 'oversight', reason: `paused by oversight.pause_on.${found.condition}: ${found.detail}; review it, then strata resume` };
  };

  return {
    pauseDue: () => due?.reason,
    async afterIteration(report: IterationReport, tools) {
      const { newBest } = report;
      if (newBest) {
        notifier.notify('new_best', `#${newBest.idx} is the new best (validation ${round(newBest.valMean)}, was ${round(newBest.previousValMean)} for #${newBest.previousIdx}): ${newBest.description}`, {
          candidate: newBest.idx,
          valMean: newBest.valMean,
          iteration: report.iteration,
        });
      }
      const found = await check(report, tools);
      if (found) trigger(found);
      const spent = ledger.llm.spentUsd(studyId);
      const warning = budgetWarningDue(ledger, studyId, [
        ['metric_calls', budget.metricCalls ? report.metricCalls / budget.metricCalls : 0],
        ['max_time', budget.maxTimeMs ? report.elapsedMs / budget.maxTimeMs : 0],
        ['usd', budget.usd ? spent / budget.usd : 0],
      ]);
      if (warning && !warned) {
        warned = true;
        notifier.notify('budget_warning', `${Math.round(warning.share * 100)}% of the study's ${warning.budget} budget is spent (after iteration ${report.iteration})`, { ...warning, iteration: report.iteration });
      }
    },
    async settle() {
      await session.settleControl();
      await notifier.flush(15_000);
    },
  };

  /** The first condition the iteration meets (crash_streak, holdout_gap, new_best, spend_usd, in that order, as for research). */
  async function check(report: IterationReport, tools: { testMean(idx: number): Promise<number | null> }): Promise<PauseTrigger | undefined> {
    const { evaluations, newBest } = report;
    const failed = report.outcome === 'reflection_failed' || (evaluations.made > 0 && evaluations.failed === evaluations.made);
    if (report.outcome !== 'seed') streak = failed ? streak + 1 : 0;
    if (pauseOn.crashStreak !== undefined && streak >= pauseOn.crashStreak) {
      const count = streak;
      streak = 0;
      return { condition: 'crash_streak', trialId: null, detail: `${count} iterations in a row failed (the last, ${report.iteration}: ${report.outcome === 'reflection_failed' ? 'the reflection gave no usable rewrite' : `all ${evaluations.made} evaluations failed`})` };
    }
    if (newBest && pauseOn.holdoutGap !== undefined) {
      const own = await tools.testMean(newBest.idx);
      const before = await tools.testMean(newBest.previousIdx);
      // Scores are higher-is-better: positive = the new best does worse on the test split than the best it replaced.
      if (own !== null && before !== null && before - own > pauseOn.holdoutGap) {
        return {
          condition: 'holdout_gap',
          trialId: null,
          detail: `new best #${newBest.idx} improved validation (${round(newBest.valMean)} against ${round(newBest.previousValMean)}) but its test score got worse: ${round(own)} against ${round(before)} for #${newBest.previousIdx} (by ${round(before - own)}, more than ${pauseOn.holdoutGap}): it may overfit the validation set`,
        };
      }
    }
    if (newBest && pauseOn.newBest) return { condition: 'new_best', trialId: null, detail: `#${newBest.idx} is the new best (validation ${round(newBest.valMean)}, was ${round(newBest.previousValMean)}): ${newBest.description}` };
    if (pauseOn.spendUsd !== undefined) return spendTrigger(ledger, studyId, pauseOn.spendUsd);
    return undefined;
  }
}

const round = (value: number) => Math.round(value * 1e4) / 1e4;
