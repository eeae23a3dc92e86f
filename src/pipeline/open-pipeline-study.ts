import { jsonHash } from '../evolve/content-hash.ts';
import { StudyStateError } from '../core/errors.ts';
import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';
import { StudySession, type StudySessionOptions } from '../study/study-session.ts';
import type { StudyRepository } from '../workspace/study-repository.ts';
import type { PipelineConfig } from './pipeline-config.ts';

/**
 * Find the pipeline's own study (kind `pipeline`, named like the pipeline) or
 * create it with HEAD as the commit every stage starts from by default; then
 * start this process's session on it (claim, running, heartbeat). A stage that already started must keep
 * its kind: its study could not be resumed as the other loop.
 *
 * @example
 * const { study, resumed } = await openPipelineStudy(ledger, repo, pipeline);
 */
export async function openPipelineStudy(
  ledger: Ledger,
  repo: StudyRepository,
  pipeline: PipelineConfig,
  sessionOptions: StudySessionOptions = {},
): Promise<{ study: StudyRecord; resumed: boolean; session: StudySession }> {
  const raw = pipeline.config.raw;
  const configHash = jsonHash(raw);
  let study = ledger.studyByName(pipeline.name);
  const resumed = study !== undefined;
  if (!study) {
    const head = await repo.head();
    const studyId = ledger.transaction(() => {
      const id = ledger.nextId('studies');
      ledger.record('study.created', { studyId: id, name: pipeline.name, kind: 'pipeline', config: raw, configHash, branch: null, baseCommit: head }, { studyId: id });
      return id;
    });
    study = ledger.study(studyId);
    return { study, resumed, session: StudySession.start(ledger, study.id, sessionOptions) };
  }
  {
    if (study.kind !== 'pipeline') {
      throw new StudyStateError(`study "${pipeline.name}" in the ledger is a ${study.kind} study, not a pipeline: give the pipeline another name:`, { study: pipeline.name });
    }
    for (const event of ledger.events(study.id)) {
      if (event.type !== 'pipeline.stage_started') continue;
      const started = event.payload as LedgerEvents['pipeline.stage_started'];
      const now = pipeline.stages.find((stage) => stage.name === started.stage);
      if (now && now.kind !== started.kind) {
        throw new StudyStateError(`stage ${started.stage} started as ${started.kind} and is ${now.kind} now; its study cannot change loops: give the stage a new name`, { stage: started.stage });
      }
    }
    // Claimed before anything is written: a second orchestrator on the same pipeline changes nothing.
    const session = StudySession.start(ledger, study.id, sessionOptions);
    if (study.configHash !== configHash) ledger.record('study.config_changed', { studyId: study.id, config: raw, configHash }, { studyId: study.id });
    return { study: ledger.study(study.id), resumed, session };
  }
}
