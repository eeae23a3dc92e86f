import { OversightError } from '../../core/errors.ts';
import { terminalLine } from '../../core/terminal-text.ts';
import { awaitStopped, currentAuthor, hasLiveOwner } from '../../oversight/control-request.ts';
import { openOversightTarget, type OversightTargetOptions } from './oversight-target.ts';
import { sendControl } from './pause.ts';

export interface StopCommandOptions extends OversightTargetOptions {
  why?: string;
  author?: string;
  out?: NodeJS.WritableStream;
}

/**
 * `strata stop`: end the study for good (done). A running one stops now (its
 * running trial is interrupted); a paused one is marked done.
 */
export async function stopCommand(options: StopCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { ledger, study } = openOversightTarget(options);
  try {
    const author = options.author ?? currentAuthor();
    if (hasLiveOwner(study)) {
      out.write(`${terminalLine(await sendControl(ledger, study, 'stop', { ...options, author }))}\n`);
      const after = await awaitStopped(ledger, study.id, 30_000);
      out.write(after.state === 'running' ? 'still stopping; strata status shows when it has\n' : `${after.name} is ${after.state}: ${terminalLine(after.stopReason ?? '')}\n`);
      return 0;
    }
    if (study.state === 'done') throw new OversightError(`study "${study.name}" is done already (${terminalLine(study.stopReason ?? '')})`, { study: study.name });
    // No orchestrator: claim it so none starts meanwhile, then end it.
    ledger.claim(study.id);
    try {
      ledger.record('study.state_changed', { studyId: study.id, state: 'done', reason: `stopped by ${author} from the cli${options.why ? `: ${options.why}` : ''}`, cause: 'oversight' }, { studyId: study.id });
    } finally {
      ledger.release(study.id);
    }
    out.write(`study ${study.name} is done (it was ${study.state})\n`);
    return 0;
  } finally {
    ledger.close();
  }
}
