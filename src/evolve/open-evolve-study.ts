import { StudyStateError } from '../core/errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';
import { StudySession, type StudySessionOptions } from '../study/study-session.ts';
import { jsonHash } from './content-hash.ts';

/** What makes two runs the same study: the seed, the data and the evaluator. */
export interface StudyIdentity {
  seedHash: string;
  trainHash: string;
  valHash: string;
  testHash: string;
  evaluatorVersion: string;
}

/**
 * Find the evolve study `name` in the ledger (it must have the same seed,
 * data and evaluator: otherwise its cache and pool would lie) or create it,
 * then start this process's session on it (claim, running, heartbeat).
 *
 * @example
 * const { study, resumed, session } = openEvolveStudy(ledger, 'support-triage', identity, { options, budget }, { signal });
 */
export function openEvolveStudy(
  ledger: Ledger,
  name: string,
  identity: StudyIdentity,
  settings: Record<string, unknown>,
  sessionOptions: StudySessionOptions = {},
): { study: StudyRecord; resumed: boolean; session: StudySession } {
  const config = { kind: 'evolve', identity, ...settings };
  const configHash = jsonHash(config);
  let study = ledger.studyByName(name);
  const resumed = study !== undefined;
  if (!study) {
    const studyId = ledger.transaction(() => {
      const id = ledger.nextId('studies');
      ledger.record('study.created', { studyId: id, name, kind: 'evolve', config, configHash, branch: null, baseCommit: null }, { studyId: id });
      return id;
    });
    study = ledger.study(studyId);
    return { study, resumed, session: StudySession.start(ledger, study.id, sessionOptions) };
  }
  {
    if (study.kind !== 'evolve') throw new StudyStateError(`study "${name}" in the ledger is a ${study.kind} study, not evolve: choose another name`, { study: name });
    const before = (study.config as { identity?: StudyIdentity } | null)?.identity;
    const changed = before ? (Object.keys(identity) as (keyof StudyIdentity)[]).filter((key) => before[key] !== identity[key]) : ['identity'];
    if (changed.length > 0) {
      throw new StudyStateError(
        `study "${name}" was started with a different ${changed.map(describe).join(', ')}; its cached scores would not apply. Choose a new study name, or restore the original inputs`,
        { study: name, changed },
      );
    }
    // Claimed before anything is written: a second orchestrator on the same study changes nothing.
    const session = StudySession.start(ledger, study.id, sessionOptions);
    if (study.configHash !== configHash) ledger.record('study.config_changed', { studyId: study.id, config, configHash }, { studyId: study.id });
    return { study: ledger.study(study.id), resumed, session };
  }
}

function describe(key: string): string {
  return { seedHash: 'seed candidate', trainHash: 'training set', valHash: 'validation set', testHash: 'test set', evaluatorVersion: 'evaluator version' }[key] ?? key;
}
