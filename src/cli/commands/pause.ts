import { OversightError } from '../../core/errors.ts';
import { terminalLine } from '../../core/terminal-text.ts';
import type { ControlAction } from '../../ledger/events.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { StudyRecord } from '../../ledger/records.ts';
import { awaitControl, awaitStopped, currentAuthor, hasLiveOwner, requestControl, runningStage } from '../../oversight/control-request.ts';
import { openOversightTarget, type OversightTargetOptions } from './oversight-target.ts';
import { orchestratorGone } from './status.ts';

export interface PauseCommandOptions extends OversightTargetOptions {
  /** Stop the running trial now (it is queued again) instead of letting it finish. */
  now?: boolean;
  why?: string;
  author?: string;
  /** How long to wait for the orchestrator to answer, ms (default 15 s). */
  waitMs?: number;
  out?: NodeJS.WritableStream;
}

/**
 * Send a control request to the orchestrator running `study` and wait for
 * its answer. A pipeline's request goes to the stage running now (it runs
 * the trials), whose pause pauses the pipeline. Returns the outcome line.
 */
export async function sendControl(ledger: Ledger, study: StudyRecord, action: ControlAction, options: { why?: string; author?: string; waitMs?: number; trialSeq?: number }): Promise<string> {
  if (!hasLiveOwner(study)) {
    // Running in the ledger, but its orchestrator was killed or crashed: nothing can answer a request.
    const gone = orchestratorGone(study);
    if (gone) throw new OversightError(`study "${study.name}" is ${gone}`, { study: study.name, state: study.state });
    throw new OversightError(`study "${study.name}" is not running (it is ${study.state}${study.stopReason ? `: ${terminalLine(study.stopReason)}` : ''}); ${study.state === 'paused' || study.state === 'failed' ? 'strata resume starts it again' : 'there is nothing to control'}`, {
      study: study.name,
      state: study.state,
    });
  }
  // A pipeline has no trials of its own: the stage running now is what pauses (and a stopped stage would let the next one start).
  const target = study.kind === 'pipeline' ? (runningStage(ledger, study) ?? study) : study;
  const stageAction: ControlAction = study.kind === 'pipeline' && action === 'stop' ? 'pause-now' : action;
  const id = requestControl(ledger, target, { action: stageAction, source: 'cli', author: options.author ?? currentAuthor(), reason: options.why ?? null, ...(options.trialSeq !== undefined ? { trialSeq: options.trialSeq } : {}) });
  if (target !== study && action === 'stop') requestControl(ledger, study, { action: 'stop', source: 'cli', author: options.author ?? currentAuthor(), reason: options.why ?? null });
  const outcome = await awaitControl(ledger, target.id, id, options.waitMs ?? 15_000);
  if (outcome === undefined) return `asked study ${target.name} to ${stageAction}; its orchestrator (process ${target.ownerPid}) has not answered yet — strata status shows when it has`;
  return `study ${target.name}: ${outcome}`;
}

/** `strata pause [--now]`: finish the running trial then pause (or stop it now); resume with `strata resume`. */
export async function pauseCommand(options: PauseCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { ledger, study } = openOversightTarget(options);
  try {
    const line = await sendControl(ledger, study, options.now ? 'pause-now' : 'pause', options);
    out.write(`${terminalLine(line)}\n`);
    if (options.now) {
      const after = await awaitStopped(ledger, study.id, 30_000);
      out.write(after.state === 'running' ? 'still stopping; strata status shows when it has paused\n' : `${after.name} is ${after.state}: ${terminalLine(after.stopReason ?? '')}\n`);
    } else {
      out.write('it pauses once its running trials finish; strata status shows when it has, strata resume goes on\n');
    }
    return 0;
  } finally {
    ledger.close();
  }
}
