import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { StudyStateError } from '../core/errors.ts';
import type { ControlAction, OversightSource } from '../ledger/events.ts';
import { Ledger, ownerAlive } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';

/** Who is acting, for the ledger: the login name, or what the dashboard was told. */
export function currentAuthor(): string {
  try {
    return userInfo().username || 'someone';
  } catch {
    return 'someone';
  }
}

/** Open a ledger for writing an oversight action; a missing one is a clear error. */
export function openLedgerForOversight(path: string): Ledger {
  if (!existsSync(path)) throw new StudyStateError(`no ledger at ${path}: run \`strata research\` (or \`strata evolve\`) first`);
  return Ledger.open(path);
}

/** Find a study by name, or say which there are. */
export function studyNamed(ledger: Ledger, name: string): StudyRecord {
  const study = ledger.studyByName(name);
  if (study) return study;
  const known = ledger.studies().map((other) => other.name);
  throw new StudyStateError(`no study "${name}" in ${ledger.path}${known.length ? `; studies: ${known.join(', ')}` : ''}`);
}

/**
 * Is a live orchestrator running the study now (state running, an owner
 * alive: its process on this host, a fresh heartbeat elsewhere)? On this host
 * the pid decides at once: an orchestrator killed a second ago must not be
 * asked, and waited for, as if it could still answer.
 */
export function hasLiveOwner(study: StudyRecord): boolean {
  return study.state === 'running' && ownerAlive(study);
}

/**
 * Ask the study's orchestrator (in another process) to act: a ledger event it
 * takes up within a second. Returns the request's event id.
 *
 * @example
 * const id = requestControl(ledger, study, { action: 'pause', source: 'cli', author: 'ada', reason: null });
 * const outcome = await awaitControl(ledger, study.id, id, 10_000);
 */
export function requestControl(
  ledger: Ledger,
  study: StudyRecord,
  request: { action: ControlAction; source: OversightSource; author: string; reason: string | null; trialSeq?: number },
): number {
  ledger.record('oversight.control_requested', { studyId: study.id, ...request, trialSeq: request.trialSeq ?? null }, { studyId: study.id });
  return ledger.oversight.lastEventId();
}

/** Wait until the orchestrator acknowledged request `requestId`; its outcome in words, or undefined after `timeoutMs`. */
export async function awaitControl(ledger: Ledger, studyId: number, requestId: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const applied = ledger.oversight.records(studyId, 'oversight.control_applied', requestId).find((record) => record.payload.requestId === requestId);
    if (applied) return applied.payload.outcome;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Wait until the study is no longer running (or `timeoutMs` passed); its record then. */
export async function awaitStopped(ledger: Ledger, studyId: number, timeoutMs: number): Promise<StudyRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const study = ledger.study(studyId);
    if (study.state !== 'running' || Date.now() >= deadline) return study;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The stage study a running pipeline is in now, if any (control requests go to it: it runs the trials). */
export function runningStage(ledger: Ledger, pipeline: StudyRecord): StudyRecord | undefined {
  return ledger.studies().find((other) => other.name.startsWith(`${pipeline.name}/`) && hasLiveOwner(other));
}
