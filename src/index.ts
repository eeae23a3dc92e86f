/**
 * Strata's public API. Everything else is internal and may change.
 *
 * @example
 * import { parseConfig, runResearch } from 'strata';
 * const config = parseConfig(readFileSync('strata.yaml', 'utf8'), 'strata.yaml');
 * const summary = await runResearch({ configPath: 'strata.yaml', config });
 */
export { parseConfig, validateConfig, type StudyConfig } from './core/config/parse-config.ts';
export type { ResearchConfig } from './core/config/research-config.ts';
export { configJsonSchema } from './core/config/json-schema.ts';
export { StrataError, ConfigError, GitError, LedgerError, StudyStateError, ProposalError, BudgetExhaustedError, type ConfigIssue } from './core/errors.ts';
export type { Proposer, Proposal, ProposalContext, TrialSummary } from './core/proposer.ts';
export type { Acceptance, AcceptanceDecision, AcceptanceInput } from './core/acceptance.ts';
export type { Executor, ExecutionRequest, ExecutionResult } from './core/executor.ts';
export type { TrialStatus, StudyState, MetricGoal } from './core/trial.ts';
export type { ParamSpec, SearchSpace, ParamValues } from './core/search-space.ts';
export { runResearch, type RunResearchOptions } from './research/run-research.ts';
export type { ResearchObserver } from './research/research-observer.ts';
export { summarizeStudy, type StudySummary } from './research/study-summary.ts';
export { SearchProposer } from './proposers/search/search-proposer.ts';
export { strictAcceptance } from './acceptance/strict-acceptance.ts';
export { thresholdAcceptance } from './acceptance/threshold-acceptance.ts';
export { noiseAwareAcceptance, NOISE_AWARE_DEFAULTS, type NoiseAwareSettings } from './acceptance/noise-aware-acceptance.ts';
export { LocalExecutor } from './executors/local-executor.ts';
export { Ledger } from './ledger/ledger.ts';
export { optimize, type OptimizeOptions, type OptimizeResult } from './evolve/optimize.ts';
export type {
  Candidate,
  Evaluate,
  EvaluationContext,
  EvaluationResult,
  EvolveBudget,
  EvolveProgress,
  PoolCandidate,
  ReflectionModel,
  StopReason,
} from './evolve/types.ts';
export { AgentProposer } from './proposers/agent/agent-proposer.ts';
export { runPipeline, type RunPipelineOptions } from './pipeline/run-pipeline.ts';
export { normalizePipeline, type PipelineConfig } from './pipeline/pipeline-config.ts';
export { comparePlainResearch, type PipelineComparison } from './pipeline/compare-plain.ts';
export type { PipelineSummary } from './pipeline/pipeline-summary.ts';
export type { PipelineObserver } from './pipeline/pipeline-observer.ts';
export { CommandProposer } from './proposers/command/command-proposer.ts';
