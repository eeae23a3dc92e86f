import { OversightError, UsageError } from '../../core/errors.ts';
import { terminalLine } from '../../core/terminal-text.ts';
import { StudyTrials } from '../../study/study-trials.ts';
import { currentAuthor, hasLiveOwner } from '../../oversight/control-request.ts';
import { describeVeto, vetoTrial } from '../../oversight/veto.ts';
import { StudyRepository } from '../../workspace/study-repository.ts';
import { budgetForRole } from '../../research/fidelity.ts';
import { loadConfig } from '../load-config.ts';
import { openOversightTarget, type OversightTargetOptions } from './oversight-target.ts';
import { sendControl } from './pause.ts';
import { dirname } from 'node:path';

export interface VetoCommandOptions extends OversightTargetOptions {
  /** The trial's number, as status shows it (`7` or `#7`). */
  trial: string;
  why?: string;
  author?: string;
  out?: NodeJS.WritableStream;
}

/**
 * `strata veto <trial> [--why "..."]`: undo one kept change. A running study
 * applies it itself between two decisions; a stopped one here and now.
 */
export async function vetoCommand(options: VetoCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const seq = Number(options.trial.replace(/^#/, ''));
  if (!Number.isInteger(seq) || seq < 0) throw new UsageError(`give the trial's number as strata status shows it, e.g. strata veto 7 (got "${options.trial}")`);
  const { ledger, study, configPath } = openOversightTarget(options);
  try {
    if (study.kind !== 'research') throw new OversightError(`study "${study.name}" is a ${study.kind} study; only research studies keep changes on a branch to veto`, { study: study.name });
    const author = options.author ?? currentAuthor();
    const reason = options.why?.trim() || 'vetoed without a reason';
    if (hasLiveOwner(study)) {
      const line = await sendControl(ledger, study, 'veto', { why: reason, author, trialSeq: seq, waitMs: 120_000 });
      out.write(`${terminalLine(line)}\n`);
      return line.includes(': failed: ') ? 1 : 0;
    }
    const { config } = loadConfig(configPath, dirname(configPath), 'research');
    const repo = await StudyRepository.open(dirname(configPath));
    // No orchestrator: hold the claim while the branch is rebuilt, so none starts in the middle.
    ledger.claim(study.id);
    try {
      const result = await vetoTrial(
        { ledger, trials: new StudyTrials(ledger, study.id), repo, branch: study.branch!, studyName: study.name, baseCommit: study.baseCommit!, candidateBudgetMs: budgetForRole(config.research!, 'candidate') },
        { seq, reason, source: 'cli', author },
      );
      out.write(`${terminalLine(describeVeto(result))}\n`);
    } finally {
      ledger.release(study.id);
    }
    return 0;
  } finally {
    ledger.close();
  }
}
