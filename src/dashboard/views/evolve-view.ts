import type { StudyRecord } from '../../ledger/records.ts';
import type { CandidateRecord, LedgerReader } from '../../ledger/ledger-reader.ts';
import { studyHeader, type StudyHeader } from './study-header.ts';

/** A pool member as the evolve page lists it. */
export interface EvolveCandidateView {
  id: number;
  idx: number;
  parents: number[];
  origin: string;
  description: string;
  iteration: number | null;
  /** Metric calls spent when it joined the pool. */
  found_at: number | null;
  val_mean: number | null;
  /** Validation examples on which it holds the best score (ties included). */
  front_count: number;
  test_mean: number | null;
  usd: number;
}

/** One iteration's proposal: what was tried from which parent, and what became of it. */
export interface ProposalView {
  iteration: number;
  outcome: string;
  accepted: boolean;
  parent: number | null;
  child: number | null;
  component: string | null;
  detail: string;
  parent_score: number | null;
  child_score: number | null;
  /** The reflection model's replies for this iteration (its reasoning and new text), with why any were refused. */
  reflections: { attempt: number; reply: string; reason: string | null }[];
  at: string;
}

/** Everything the evolve study page shows. */
export interface EvolveView {
  kind: 'evolve';
  study: StudyHeader;
  components: string[];
  best: EvolveCandidateView | null;
  seed: EvolveCandidateView | null;
  candidates: EvolveCandidateView[];
  /** Best validation mean against metric calls spent: one step per new best. */
  progress: { calls: number[]; best: number[]; idx: number[] };
  /** The Pareto front as a candidates × validation-examples matrix (rows follow `candidates`). */
  front: { examples: string[]; scores: (number | null)[][]; holds: boolean[][] };
  proposals: ProposalView[];
  counts: Record<string, number>;
  metric_calls: { used: number; budget: number | null; by_split: Record<string, number> };
  spend: { usd: number; calls: number; by_role: { role: string; calls: number; usd: number }[] };
}

const mean = (values: readonly number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

/** Per-candidate scores on a split, keyed by example. */
function scoresBy(reader: LedgerReader, studyId: number, split: string): Map<number, Map<string, number>> {
  const byCandidate = new Map<number, Map<string, number>>();
  for (const evaluation of reader.scores(studyId, split)) {
    const scores = byCandidate.get(evaluation.candidateId) ?? new Map<string, number>();
    scores.set(evaluation.exampleId, evaluation.score);
    byCandidate.set(evaluation.candidateId, scores);
  }
  return byCandidate;
}

/**
 * Build the evolve study page's data from the ledger: the pool and its
 * lineage, the per-example Pareto front, the proposals with the reflection's
 * replies, and the budget spent.
 *
 * @example
 * const view = evolveView(reader, reader.studyByName('support-triage')!);
 * view.best?.val_mean;
 */
export function evolveView(reader: LedgerReader, study: StudyRecord, now = Date.now()): EvolveView {
  const records = reader.candidates(study.id);
  const val = scoresBy(reader, study.id, 'val');
  const test = scoresBy(reader, study.id, 'test');
  const usd = reader.usdBy(study.id, 'candidate_id');
  const examples = [...new Set([...val.values()].flatMap((scores) => [...scores.keys()]))].sort(naturalOrder);
  const bestPerExample = new Map(examples.map((example) => [example, Math.max(...[...val.values()].map((scores) => scores.get(example) ?? -Infinity))]));
  const holds = (candidate: CandidateRecord) =>
    examples.map((example) => {
      const score = val.get(candidate.id)?.get(example);
      return score !== undefined && score === bestPerExample.get(example);
    });
  const candidates = records.map((candidate): EvolveCandidateView => {
    const meta = candidate.meta ?? {};
    const scores = [...(val.get(candidate.id)?.values() ?? [])];
    return {
      id: candidate.id,
      idx: candidate.idx,
      parents: candidate.parentIds,
      origin: candidate.proposer ?? 'unknown',
      description: candidate.description ?? '',
      iteration: typeof meta.iteration === 'number' ? meta.iteration : null,
      found_at: typeof meta.foundAtMetricCalls === 'number' ? meta.foundAtMetricCalls : null,
      val_mean: typeof meta.valMean === 'number' ? meta.valMean : mean(scores),
      front_count: holds(candidate).filter(Boolean).length,
      test_mean: mean([...(test.get(candidate.id)?.values() ?? [])]),
      usd: usd.get(candidate.id) ?? 0,
    };
  });
  const best = candidates.reduce<EvolveCandidateView | null>((top, candidate) => (top === null || (candidate.val_mean ?? -Infinity) > (top.val_mean ?? -Infinity) ? candidate : top), null);

  const progress: EvolveView['progress'] = { calls: [], best: [], idx: [] };
  for (const candidate of [...candidates].sort((a, b) => (a.found_at ?? 0) - (b.found_at ?? 0) || a.idx - b.idx)) {
    if (candidate.val_mean === null) continue;
    const last = progress.best.at(-1);
    if (last !== undefined && candidate.val_mean <= last) continue;
    progress.calls.push(candidate.found_at ?? 0);
    progress.best.push(candidate.val_mean);
    progress.idx.push(candidate.idx);
  }

  const proposals = proposalsOf(reader, study.id);
  const counts: Record<string, number> = {};
  for (const proposal of proposals) counts[proposal.outcome] = (counts[proposal.outcome] ?? 0) + 1;
  const bySplit = reader.evaluationCounts(study.id);
  // The engine stores its budget as `budget.metricCalls`; a strata.yaml-shaped config has `evolve.budget.metric_calls`.
  const config = study.config as { budget?: { metricCalls?: number }; evolve?: { budget?: { metric_calls?: number } } } | null;
  const callBudget = config?.budget?.metricCalls ?? config?.evolve?.budget?.metric_calls ?? null;
  const byRole = reader.spendByRole(study.id);
  return {
    kind: 'evolve',
    study: studyHeader(study, now),
    components: Object.keys(records[0]?.components ?? {}),
    best,
    seed: candidates.find((candidate) => candidate.idx === 0) ?? null,
    candidates,
    progress,
    front: {
      examples,
      scores: records.map((candidate) => examples.map((example) => val.get(candidate.id)?.get(example) ?? null)),
      holds: records.map(holds),
    },
    proposals,
    counts,
    // Held-out test scoring is outside the budget, so it is not a metric call.
    metric_calls: { used: (bySplit.train ?? 0) + (bySplit.val ?? 0), budget: callBudget, by_split: bySplit },
    spend: {
      usd: byRole.reduce((sum, role) => sum + role.usd, 0),
      calls: byRole.reduce((sum, role) => sum + role.calls, 0),
      by_role: byRole.map((role) => ({ role: role.role, calls: role.calls, usd: role.usd })),
    },
  };
}

interface IterationPayload {
  iteration: number;
  outcome: string;
  parentIdx: number | null;
  childIdx: number | null;
  component: string | null;
  detail: string;
  parentScores: number[] | null;
  childScores: number[] | null;
}
interface ReflectionPayload {
  iteration: number;
  parentIdx: number;
  component: string;
  attempt: number;
  reply: string;
  reason: string | null;
}

/** Every iteration after the seed, newest last, with the reflection replies that produced it. */
export function proposalsOf(reader: LedgerReader, studyId: number): ProposalView[] {
  const events = reader.events(studyId, ['evolve.iteration_finished', 'evolve.reflection_recorded'], ['snapshot']);
  const replies = new Map<string, ProposalView['reflections']>();
  const proposals: ProposalView[] = [];
  for (const event of events) {
    if (event.type === 'evolve.reflection_recorded') {
      const reflection = event.payload as ReflectionPayload;
      const key = `${reflection.iteration}:${reflection.parentIdx}`;
      replies.set(key, [...(replies.get(key) ?? []), { attempt: reflection.attempt, reply: reflection.reply, reason: reflection.reason }]);
      continue;
    }
    const iteration = event.payload as IterationPayload;
    if (iteration.outcome === 'seed') continue;
    const sum = (scores: number[] | null) => (scores ? scores.reduce((a, b) => a + b, 0) : null);
    proposals.push({
      iteration: iteration.iteration,
      outcome: iteration.outcome,
      accepted: iteration.outcome === 'accepted' || iteration.outcome === 'merge_accepted',
      parent: iteration.parentIdx,
      child: iteration.childIdx,
      component: iteration.component,
      detail: iteration.detail,
      parent_score: sum(iteration.parentScores),
      child_score: sum(iteration.childScores),
      reflections: replies.get(`${iteration.iteration}:${iteration.parentIdx}`) ?? [],
      at: event.createdAt,
    });
  }
  return proposals;
}

/** ex2 before ex10. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}
