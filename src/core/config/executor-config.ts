import type { z } from 'zod';
import { parseDuration } from '../duration.ts';
import type { ConfigIssue } from '../errors.ts';
import type { executorSchema, fidelitySchema } from './executor-schema.ts';

/** `research.executor.slurm` after normalization. */
export interface SlurmConfig {
  partition?: string;
  account?: string;
  qos?: string;
  /** GPUs per trial (`--gres=gpu[:type]:N`); 0 requests none. */
  gpusPerTrial: number;
  gpuType?: string;
  cpusPerTask?: number;
  mem?: string;
  /** Added to budget + grace for `--time`; the job script enforces the exact budget itself. */
  timeMarginMs: number;
  pollIntervalMs: number;
  extraArgs: string[];
}

/** `research.executor` after normalization: where trials run and how many at once. */
export interface ExecutorConfig {
  kind: 'local' | 'slurm';
  /** Trials running at the same time. */
  slots: number;
  /** Local only: the device(s) each slot owns, one entry per slot (`"0"`, `"1,2"`). */
  gpus?: string[];
  /** Proposals prepared ahead of a free slot. */
  lookahead: number;
  /**
   * Speculative proposals: one proposal is made while the trials run, as if they will be discarded; a keep sends a
   * proposal made on the old best back to the proposer (re-applied onto the new best) instead of running it.
   */
  speculate: boolean;
  /** Proposals generated at the same time. */
  concurrentProposals: number;
  /** As written (relative to the config file's folder unless absolute); resolved when the study opens. */
  sharedDir?: string;
  slurm: SlurmConfig;
}

/** `research.fidelity` after normalization. */
export interface FidelityConfig {
  screenBudgetMs: number;
  screenGraceMs: number;
  promoteTop: number;
}

const DEFAULT_TIME_MARGIN_MS = 120_000;
const DEFAULT_POLL_INTERVAL_MS = 5_000;

const ms = (value: string | number | undefined): number | undefined => (value === undefined ? undefined : (parseDuration(value) ?? undefined));

/**
 * Normalize `research.executor` (absent = one local slot; speculating when the proposer thinks) and
 * check the rules that span keys.
 *
 * @example
 * normalizeExecutor({ kind: 'local', gpus: [0, 1] }, issues); // { slots: 2, gpus: ['0', '1'], lookahead: 1, ... }
 */
export function normalizeExecutor(
  section: z.infer<typeof executorSchema> | undefined,
  issues: ConfigIssue[],
  defaults: { concurrentProposals?: number; speculate?: boolean } = {},
): ExecutorConfig {
  const kind = section?.kind ?? 'local';
  const gpus = section?.gpus?.map(String);
  if (gpus && kind === 'slurm') {
    issues.push({ path: 'research.executor.gpus', message: 'SLURM assigns the devices: use research.executor.slurm.gpus_per_trial and slots instead' });
  }
  if (gpus && section?.slots !== undefined && section.slots !== gpus.length) {
    issues.push({ path: 'research.executor.slots', message: `${section.slots} slots but ${gpus.length} gpus; with gpus there is one slot per entry: drop slots` });
  }
  if (gpus && new Set(gpus).size !== gpus.length) {
    issues.push({ path: 'research.executor.gpus', message: `lists a device twice (${gpus.join(', ')}); two trials would share it` });
  }
  if (section?.slurm && kind !== 'slurm') {
    issues.push({ path: 'research.executor.slurm', message: 'only used with kind: slurm; set kind: slurm or remove this section' });
  }
  const slots = gpus && kind === 'local' ? gpus.length : (section?.slots ?? 1);
  const slurm = section?.slurm;
  return {
    kind,
    slots,
    ...(gpus && kind === 'local' ? { gpus } : {}),
    lookahead: section?.lookahead ?? (slots > 1 ? 1 : 0),
    // One slot, a proposer that thinks (an agent, a command): the slot would otherwise wait while it thinks (the serial
    // loop). A search proposer answers in milliseconds, so it proposes serially: each proposal sees every earlier result.
    speculate: section?.speculate ?? (slots === 1 && section?.lookahead === undefined && (defaults.speculate ?? false)),
    concurrentProposals: section?.concurrent_proposals ?? defaults.concurrentProposals ?? slots,
    ...(section?.shared_dir !== undefined ? { sharedDir: section.shared_dir } : {}),
    slurm: {
      ...(slurm?.partition !== undefined ? { partition: slurm.partition } : {}),
      ...(slurm?.account !== undefined ? { account: slurm.account } : {}),
      ...(slurm?.qos !== undefined ? { qos: slurm.qos } : {}),
      gpusPerTrial: slurm?.gpus_per_trial ?? 1,
      ...(slurm?.gpu_type !== undefined ? { gpuType: slurm.gpu_type } : {}),
      ...(slurm?.cpus_per_task !== undefined ? { cpusPerTask: slurm.cpus_per_task } : {}),
      ...(slurm?.mem !== undefined ? { mem: slurm.mem } : {}),
      timeMarginMs: ms(slurm?.time_margin) ?? DEFAULT_TIME_MARGIN_MS,
      pollIntervalMs: ms(slurm?.poll_interval) ?? DEFAULT_POLL_INTERVAL_MS,
      extraArgs: slurm?.extra_args ?? [],
    },
  };
}

/**
 * Normalize `research.fidelity` against the full budget. `defaultGrace` is the
 * grace rule applied to the screening budget when `research.grace` is not set.
 */
export function normalizeFidelity(
  section: z.infer<typeof fidelitySchema> | undefined,
  full: { budgetMs: number; explicitGraceMs: number | undefined; defaultGrace: (budgetMs: number) => number },
  issues: ConfigIssue[],
): FidelityConfig | undefined {
  if (!section) return undefined;
  const screenBudgetMs = ms(section.screen_budget) ?? 0;
  const budgetMs = ms(section.budget);
  if (budgetMs !== undefined && budgetMs !== full.budgetMs) {
    issues.push({
      path: 'research.fidelity.budget',
      message: `${budgetMs / 1000}s differs from research.budget (${full.budgetMs / 1000}s); research.budget is the full budget: make them equal or drop this key`,
    });
  }
  if (screenBudgetMs >= full.budgetMs) {
    issues.push({ path: 'research.fidelity.screen_budget', message: `must be shorter than the full budget (${full.budgetMs / 1000}s), got ${screenBudgetMs / 1000}s` });
  }
  return { screenBudgetMs, screenGraceMs: full.explicitGraceMs ?? full.defaultGrace(screenBudgetMs), promoteTop: section.promote_top };
}
