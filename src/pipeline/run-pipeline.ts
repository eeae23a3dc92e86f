import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { StudyConfig } from '../core/config/parse-config.ts';
import { StudyStateError } from '../core/errors.ts';
import type { LedgerEvents } from '../ledger/events.ts';
import { Ledger } from '../ledger/ledger.ts';
import { runResearch } from '../research/run-research.ts';
import { StudyRepository } from '../workspace/study-repository.ts';
import { commitFiles } from './commit-files.ts';
import { evolveStageConfig, isFileKey, pipelineDir, researchStageConfig, type PipelineConfig, type PipelineStage, type ResolveString } from './pipeline-config.ts';
import type { StageBest } from '../ledger/events.ts';
import type { PipelineObserver } from './pipeline-observer.ts';
import type { EndState, StudySession } from '../study/study-session.ts';
import type { StudyStopCause } from '../core/trial.ts';
import { openPipelineStudy } from './open-pipeline-study.ts';
import { summarizePipeline, type PipelineSummary } from './pipeline-summary.ts';
import { evolveComponentFiles, runEvolveStage } from './run-evolve-stage.ts';
import { findReferences, isWholeReference, substituteReferences, type StageReference } from './stage-references.ts';
import { stageBest, stageSpend } from './stage-results.ts';

export interface RunPipelineOptions {
  pipeline: PipelineConfig;
  /** Abort = stop gracefully: the running stage pauses, and the next run resumes it. */
  signal?: AbortSignal;
  observer?: PipelineObserver;
  /** Environment for model keys (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Run (or resume) a pipeline: its stages in order, each a study named
 * `<pipeline>/<stage>` in the repository's ledger. A stage starts from its
 * `start:` commit (default: HEAD when the pipeline was created), with an
 * earlier stage's components committed into files by `handoff:`, and its
 * `${<stage>.best.…}` references resolved. A finished stage is not run
 * again; an unfinished one resumes as its study does. The pipeline itself is
 * a study of kind `pipeline` whose events record each stage's start (what it
 * received) and finish (what it found and spent).
 *
 * @example
 * const { path, config } = loadConfig('pipeline.yaml', cwd);
 * const summary = await runPipeline({ pipeline: normalizePipeline(config, path) });
 * console.log(summary.stages.at(-1)?.best?.metric);
 */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineSummary> {
  const { pipeline } = options;
  const userSignal = options.signal ?? new AbortController().signal;
  const observer = options.observer ?? {};
  const repo = await StudyRepository.open(pipelineDir(pipeline));
  await repo.ignoreStateDir();
  const ledger = Ledger.open(join(repo.stateDir, 'ledger.db'));
  let session: StudySession | undefined;
  try {
    // Claim, heartbeat, release: the same study session as research and evolve.
    const opened = await openPipelineStudy(ledger, repo, pipeline, { signal: userSignal });
    const { study, resumed } = opened;
    session = opened.session;
    // The session's signal follows the user's and aborts on \`strata pause --now\` / \`stop\` sent to the pipeline itself
    // (between stages, when no stage runs to take the request): the stages run under it.
    const signal = session.signal;
    const id = study.id;
    const startCommit = study.baseCommit!;
    observer.pipelineStarted?.({
      name: pipeline.name,
      resumed,
      startCommit,
      stages: pipeline.stages.map((stage) => ({ name: stage.name, kind: stage.kind, study: stage.study, state: ledger.studyByName(stage.study)?.state ?? null })),
    });
    const results = new Map<string, StageBest>();
    for (const stage of pipeline.stages) {
      const finished = stageEvent(ledger, id, 'pipeline.stage_finished', stage.name);
      const own = ledger.studyByName(stage.study);
      if (finished && own?.state === 'done') {
        results.set(stage.name, finished.best);
        observer.stageSkipped?.({ stage: stage.name, study: stage.study, best: finished.best });
        continue;
      }
      if (signal.aborted) {
        endAsAsked(session, 'paused', `stopped by the user before stage ${stage.name}; run again to resume`, 'user');
        return finish(ledger, id, observer);
      }
      const context: StageContext = { pipeline, stage, repo, ledger, pipelineStudyId: id, startCommit, results, signal, observer, ...(options.env ? { env: options.env } : {}) };
      const outcome = await runStage(context);
      if (outcome.state !== 'done') {
        // A stop by the user pauses whatever the stage's study says (an abort during a model check fails a research study).
        const state = outcome.state === 'failed' && !signal.aborted ? 'failed' : 'paused';
        const why = signal.aborted ? 'stopped by the user' : `${outcome.state}: ${outcome.reason ?? ''}`;
        endAsAsked(session, state, `stage ${stage.name} ${why}; run again to resume it`, signal.aborted ? 'user' : (ledger.studyByName(stage.study)?.stopCause ?? 'error'));
        return finish(ledger, id, observer);
      }
      results.set(stage.name, outcome.best);
    }
    session.end('done', `${pipeline.stages.length} stages done`, 'complete');
    return finish(ledger, id, observer);
  } catch (error) {
    // Leave it resumable: fixing the cause and running again continues at the stage that stopped.
    if (ledger.isOpen) session?.endOnError(error);
    throw error;
  } finally {
    if (ledger.isOpen) session?.close();
    ledger.close();
  }
}

/**
 * End the pipeline; a \`strata stop\` (or \`pause\`) sent to it decides how,
 * whatever cause its stopped stage gives (the stage itself only pauses, so it
 * resumes should the pipeline be run again).
 */
function endAsAsked(session: StudySession, state: EndState, reason: string, cause: StudyStopCause): void {
  // A stop is sent to the stage and then to the pipeline: the stage may have stopped before the pipeline's next poll.
  session.pollControl();
  const asked = session.requested;
  if (asked) session.end(asked.state, asked.reason, asked.cause);
  else session.end(state, reason, cause);
}

interface StageContext {
  pipeline: PipelineConfig;
  stage: PipelineStage;
  repo: StudyRepository;
  ledger: Ledger;
  pipelineStudyId: number;
  startCommit: string;
  results: Map<string, StageBest>;
  signal: AbortSignal;
  observer: PipelineObserver;
  env?: NodeJS.ProcessEnv;
}

/** Start (or resume) one stage and run its study; returns how it ended and, when done, what it found. */
async function runStage(context: StageContext): Promise<{ state: string; reason: string | null; best: StageBest }> {
  const { pipeline, stage, ledger, observer } = context;
  const workDir = join(context.repo.stateDir, 'pipelines', ...pipeline.name.split('/'), stage.name);
  const inputs: LedgerEvents['pipeline.stage_started']['inputs'] = [];
  const previous = stageEvent(ledger, context.pipelineStudyId, 'pipeline.stage_started', stage.name);
  const started = previous ?? (await beginStage(context, workDir, inputs));
  // Resolved on every run (earlier stages' results are fixed, so the config is the same); noted on the first.
  const resolveString = referenceResolver(context, join(workDir, 'inputs'), inputs);
  const config = stage.kind === 'research' ? researchStageConfig(pipeline, stage, resolveString) : evolveStageConfig(pipeline, stage, resolveString);
  const resumed = previous !== undefined;
  if (!resumed) ledger.record('pipeline.stage_started', started, { studyId: context.pipelineStudyId });
  observer.stageStarted?.({ stage: stage.name, kind: stage.kind, study: stage.study, resumed, started });
  try {
    await runStudy(context, config, started.baseCommit, workDir);
  } catch (error) {
    // Stopped by the user: both loops leave their study resumable; anything else is a real failure.
    if (!context.signal.aborted) throw error;
  }

  const own = ledger.studyByName(stage.study);
  const state = own?.state ?? 'paused';
  const reason = own?.stopReason ?? null;
  const spend = stageSpend(ledger, stage.kind, stage.study);
  if (state !== 'done') {
    observer.stageFinished?.({ stage: stage.name, study: stage.study, state, reason, best: stageBest(ledger, stage.kind, stage.study), spend });
    return { state, reason, best: emptyBest() };
  }
  const best = stageBest(ledger, stage.kind, stage.study) ?? emptyBest();
  if (stage.kind === 'evolve' && best.components) {
    // The best components in their files on the stage's base: what ${stage.best.commit} means for evolve.
    const files = Object.fromEntries(Object.entries(evolveComponentFiles(pipeline, stage, context.repo)).flatMap(([component, path]) => (best.components![component] === undefined ? [] : [[path, best.components![component]!]])));
    if (Object.keys(files).length > 0) {
      best.commit = await commitFiles(context.repo, { base: started.baseCommit, files, message: `strata pipeline ${pipeline.name}: best of stage ${stage.name}`, scratch: join(workDir, 'scratch', 'best') });
      await context.repo.moveRef(`refs/strata-pipelines/${pipeline.name}/${stage.name}`, best.commit);
    }
  }
  ledger.record('pipeline.stage_finished', { studyId: context.pipelineStudyId, stage: stage.name, index: stage.index, study: stage.study, state, reason, best, spend }, { studyId: context.pipelineStudyId });
  observer.stageFinished?.({ stage: stage.name, study: stage.study, state, reason, best, spend });
  return { state, reason, best };
}

/** The start record of a stage: its start commit, the hand-off commit on top of it, and the references it resolved. */
async function beginStage(context: StageContext, workDir: string, inputs: LedgerEvents['pipeline.stage_started']['inputs']): Promise<LedgerEvents['pipeline.stage_started']> {
  const { pipeline, stage, repo } = context;
  let startCommit = context.startCommit;
  if (stage.start !== undefined) {
    const revision = substituteReferences(stage.start, (reference) => lookup(context, reference));
    const commit = await repo.resolveCommit(revision);
    if (!commit) throw new StudyStateError(`stage ${stage.name}: start ${JSON.stringify(revision)} is not a commit of ${repo.root}; give a revision git knows, or \${<stage>.best.commit}`, { stage: stage.name });
    startCommit = commit;
    if (revision !== stage.start) inputs.push({ reference: stage.start, value: commit, file: null });
  }
  let handoff: LedgerEvents['pipeline.stage_started']['handoff'] = null;
  let baseCommit = startCommit;
  if (stage.handoff) {
    const from = context.results.get(stage.handoff.from);
    const files: Record<string, string> = {};
    for (const [component, file] of Object.entries(stage.handoff.files)) {
      const text = from?.components?.[component];
      if (text === undefined) throw new StudyStateError(`stage ${stage.name}: stage ${stage.handoff.from} has no best ${component} to hand off; run it first`, { stage: stage.name });
      files[repoPath(repo, pipeline, file)] = text;
    }
    baseCommit = await commitFiles(repo, {
      base: startCommit,
      files,
      message: `strata pipeline ${pipeline.name}: hand-off from ${stage.handoff.from} to ${stage.name}\n\n${Object.entries(stage.handoff.files).map(([component, file]) => `${component} -> ${file}`).join('\n')}`,
      scratch: join(workDir, 'scratch', 'handoff'),
    });
    handoff = { from: stage.handoff.from, files: stage.handoff.files, commit: baseCommit };
  }
  return { studyId: context.pipelineStudyId, stage: stage.name, index: stage.index, kind: stage.kind, study: stage.study, startCommit, baseCommit, handoff, inputs };
}

async function runStudy(context: StageContext, config: StudyConfig, baseCommit: string, workDir: string): Promise<void> {
  const { pipeline, stage, observer } = context;
  if (stage.kind === 'research') {
    await runResearch({
      configPath: pipeline.configPath,
      config,
      ledgerPath: context.ledger.path,
      baseCommit,
      signal: context.signal,
      ...(observer.research ? { observer: observer.research } : {}),
    });
    return;
  }
  await runEvolveStage({
    pipeline,
    stage,
    config,
    repo: context.repo,
    ledger: context.ledger,
    baseline: baseCommit,
    workDir,
    signal: context.signal,
    observer,
    ...(context.env ? { env: context.env } : {}),
  });
}

/**
 * Resolve references for one stage. A key that names a file (research.program,
 * evolve.seed.*, evolve.reflection.prompt) and holds nothing but a reference
 * gets a file with the value under the stage's inputs folder; elsewhere the
 * value is put in place. Each resolution is noted for the stage's start record.
 */
function referenceResolver(context: StageContext, inputsDir: string, inputs: LedgerEvents['pipeline.stage_started']['inputs']): ResolveString {
  return (value, path) => {
    const references = findReferences(value);
    if (references.length === 0) return value;
    if (isFileKey(path) && isWholeReference(value)) {
      const text = lookup(context, references[0]!);
      const file = join(inputsDir, `${path.replace(/\./g, '-')}.txt`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      note(inputs, { reference: references[0]!.text, value: abbreviate(text), file: relative(context.repo.root, file).split(sep).join('/') });
      return file;
    }
    return substituteReferences(value, (reference) => {
      const text = lookup(context, reference);
      note(inputs, { reference: reference.text, value: abbreviate(text), file: null });
      return text;
    });
  };
}

/** The value of `${stage.best.attribute}` from an earlier stage's result. */
function lookup(context: StageContext, reference: StageReference): string {
  const best = context.results.get(reference.stage);
  const fail = (why: string) => new StudyStateError(`stage ${context.stage.name}: ${reference.text} ${why}`, { stage: context.stage.name, reference: reference.text });
  if (!best) throw fail('refers to a stage that has not finished');
  if (reference.attribute === 'commit') {
    if (!best.commit) throw fail(`has no commit: none of stage ${reference.stage}'s components is a file of the project`);
    return best.commit;
  }
  if (reference.attribute === 'metric' || reference.attribute === 'score') {
    const value = reference.attribute === 'metric' ? best.metric : best.score;
    if (value === null) throw fail(`has no ${reference.attribute}`);
    return String(value);
  }
  const text = best.components?.[reference.attribute];
  if (text === undefined) throw fail(`is not a component of stage ${reference.stage}`);
  return text;
}

function note(inputs: LedgerEvents['pipeline.stage_started']['inputs'], input: LedgerEvents['pipeline.stage_started']['inputs'][number]): void {
  if (!inputs.some((existing) => existing.reference === input.reference)) inputs.push(input);
}

/** First line and size of a text, for records and status. */
function abbreviate(text: string): string {
  const first = text.split('\n', 1)[0] ?? '';
  return text.length <= 80 && !text.includes('\n') ? text : `${first.slice(0, 60)}… (${text.length} chars)`;
}

/** A path relative to the pipeline file, as a repository-relative posix path. */
function repoPath(repo: StudyRepository, pipeline: PipelineConfig, file: string): string {
  return relative(repo.root, resolve(pipelineDir(pipeline), file)).split(sep).join('/');
}

function stageEvent<T extends 'pipeline.stage_started' | 'pipeline.stage_finished'>(ledger: Ledger, studyId: number, type: T, stage: string): LedgerEvents[T] | undefined {
  let found: LedgerEvents[T] | undefined;
  for (const event of ledger.events(studyId)) {
    if (event.type === type && (event.payload as LedgerEvents[T]).stage === stage) found = event.payload as LedgerEvents[T];
  }
  return found;
}

function emptyBest(): StageBest {
  return { commit: null, metric: null, baseline: null, score: null, components: null };
}

function finish(ledger: Ledger, studyId: number, observer: PipelineObserver): PipelineSummary {
  const summary = summarizePipeline(ledger, ledger.study(studyId));
  observer.pipelineFinished?.(summary);
  return summary;
}
