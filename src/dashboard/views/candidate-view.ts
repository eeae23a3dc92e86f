import type { StudyRecord } from '../../ledger/records.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { evolveView, type EvolveCandidateView, type EvolveView, type ProposalView } from './evolve-view.ts';
import { unifiedDiff } from './line-diff.ts';
import { llmCallView, type LlmCallView } from './trial-view.ts';

/** Everything the candidate page shows. */
export interface CandidateDetailView {
  study: { id: number; name: string; kind: string; state: string };
  candidate: EvolveCandidateView;
  components: Record<string, string>;
  /** Per component, a unified diff against the first parent (empty when unchanged). */
  diffs: { component: string; parent: number; diff: string }[];
  children: number[];
  scores: { example: string; score: number | null; best: number | null; holds: boolean; feedback: string | null }[];
  /** The iteration that produced this candidate, with the reflection's reasoning. */
  proposal: ProposalView | null;
  /** Proposals tried from this candidate as parent (accepted and rejected). */
  tried_from: ProposalView[];
  llm_calls: LlmCallView[];
  neighbors: { previous: number | null; next: number | null };
}

/**
 * The candidate page's data, or undefined when the pool has no candidate `idx`.
 *
 * @example
 * candidateDetailView(reader, study, 3)?.diffs[0]?.diff;
 */
export function candidateDetailView(reader: LedgerReader, study: StudyRecord, idx: number, view: EvolveView = evolveView(reader, study)): CandidateDetailView | undefined {
  const records = reader.candidates(study.id);
  const record = records.find((candidate) => candidate.idx === idx);
  if (!record) return undefined;
  const row = view.candidates.findIndex((candidate) => candidate.idx === idx);
  const components = record.components ?? {};
  const parent = records.find((candidate) => candidate.idx === record.parentIds[0]);
  const feedback = new Map(reader.candidateEvaluations(study.id, record.id, 'val').map((evaluation) => [evaluation.exampleId, evaluation.feedback]));
  const bestPerExample = view.front.examples.map((_, column) => view.front.scores.reduce((top, scores) => Math.max(top, scores[column] ?? -Infinity), -Infinity));
  const indices = records.map((candidate) => candidate.idx);
  const position = indices.indexOf(idx);
  return {
    study: { id: study.id, name: study.name, kind: study.kind, state: study.state },
    candidate: view.candidates[row]!,
    components,
    diffs: parent
      ? Object.keys({ ...parent.components, ...components }).map((name) => ({
          component: name,
          parent: parent.idx,
          diff: unifiedDiff(parent.components?.[name] ?? '', components[name] ?? '', name),
        }))
      : [],
    children: records.filter((candidate) => candidate.parentIds.includes(idx)).map((candidate) => candidate.idx),
    scores: view.front.examples.map((example, column) => ({
      example,
      score: view.front.scores[row]?.[column] ?? null,
      best: Number.isFinite(bestPerExample[column]) ? bestPerExample[column]! : null,
      holds: view.front.holds[row]?.[column] ?? false,
      feedback: feedback.get(example) ?? null,
    })),
    proposal: view.proposals.find((proposal) => proposal.child === idx) ?? null,
    tried_from: view.proposals.filter((proposal) => proposal.parent === idx),
    llm_calls: reader.llmCalls({ candidateId: record.id }).map(llmCallView),
    neighbors: { previous: position > 0 ? indices[position - 1]! : null, next: position < indices.length - 1 ? indices[position + 1]! : null },
  };
}
