import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OversightError } from '../../core/errors.ts';
import { terminalLine } from '../../core/terminal-text.ts';
import { hasLiveOwner } from '../../oversight/control-request.ts';
import { stateDirFor } from '../../workspace/state-dir.ts';
import { openOversightTarget, type OversightTargetOptions } from './oversight-target.ts';
import { sendControl } from './pause.ts';

export interface ResumeCommandOptions extends OversightTargetOptions {
  /** Only say how to resume, start nothing. */
  print?: boolean;
  author?: string;
  out?: NodeJS.WritableStream;
}

const STRATA_BIN = fileURLToPath(new URL('../../../bin/strata.js', import.meta.url));

/**
 * `strata resume`: a paused (or failed) study starts again in the background,
 * its output in a log file under .strata/logs; with --print, only the command
 * that resumes it in the foreground is shown. A running study with a pause
 * pending has the pause withdrawn.
 */
export async function resumeCommand(options: ResumeCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { ledger, study, configPath } = openOversightTarget(options);
  try {
    if (hasLiveOwner(study)) {
      out.write(`${terminalLine(await sendControl(ledger, study, 'resume', options))}\n`);
      return 0;
    }
    if (study.state === 'done') {
      throw new OversightError(`study "${study.name}" is done (${terminalLine(study.stopReason ?? '')}); to go on, raise its budget (max_trials, max_time) in the config and run strata ${study.kind}, or start a new study`, { study: study.name });
    }
    if (study.name.includes('/') && study.kind !== 'pipeline') {
      throw new OversightError(`study "${study.name}" is a pipeline stage: resume the pipeline (strata resume with the pipeline's config), which resumes the stage`, { study: study.name });
    }
    const args = [study.kind, '--config', configPath];
    const how = `strata ${args.join(' ')}`;
    if (options.print) {
      out.write(`study ${study.name} is ${study.state}; resume it in the foreground with: ${how}\n`);
      return 0;
    }
    const logDir = join(stateDirFor(dirname(configPath)), 'logs', study.name);
    mkdirSync(logDir, { recursive: true });
    const logPath = join(logDir, `resume-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
    const log = openSync(logPath, 'a');
    try {
      // Its own session, so closing this terminal does not stop it; stdin closed, output to the log.
      const child = spawn(process.execPath, [STRATA_BIN, ...args], { cwd: dirname(configPath), detached: true, stdio: ['ignore', log, log] });
      child.unref();
      out.write(`resumed study ${study.name} in the background (process ${child.pid}); output: ${logPath}\nstrata status shows its progress, strata pause pauses it again\n`);
    } finally {
      closeSync(log);
    }
    return 0;
  } finally {
    ledger.close();
  }
}
