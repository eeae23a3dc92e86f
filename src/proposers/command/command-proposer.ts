import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSettings, ResearchConfig } from '../../core/config/research-config.ts';
import { ConfigError, ProposalError } from '../../core/errors.ts';
import type { Proposal, ProposalContext, Proposer, TrialSummary } from '../../core/proposer.ts';
import { runProcess } from '../../executors/run-process.ts';
import { chooseRepair } from '../agent/crash-repair.ts';
import { ProjectFiles, splitLines } from '../agent/project-files.ts';
import { buildBrief } from '../agent/research-brief.ts';
import { loadProgram } from '../agent/research-program.ts';
import { findExecutable } from './find-executable.ts';

export interface CommandProposerOptions {
  /** Shell command line of the external agent, run with `/bin/sh -c` in the trial's project folder. */
  command: string;
  /** The research program (program.md), placeholders filled. */
  program: string;
  settings: Pick<AgentSettings, 'timeoutMs' | 'maxFixAttempts' | 'promptTokens' | 'historyTrials'>;
  /** Where each proposal's prompt, description file and output log are kept (`<seq>-prompt.md`, `<seq>-agent.log`). */
  transcriptsDir: string;
  /** Base environment of the agent (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** How long the agent's process group gets after SIGTERM at the timeout. */
const KILL_AFTER_MS = 5000;

/**
 * `proposer: command`: an external coding agent (Claude Code, Codex CLI, any
 * script) makes the change. Strata writes the brief to `<seq>-prompt.md`
 * (named by `STRATA_PROMPT_FILE`) and to the agent's stdin, runs
 * `agent_command` in the trial's project folder in its own process group
 * with `agent_timeout`, and takes what it changed as the candidate (the loop
 * refuses changes outside `editable` as invalid). The description is the
 * first line of the file named by `STRATA_DESCRIPTION_FILE` if the agent
 * wrote one, else its last `DESCRIPTION:` line, else its last output line.
 *
 * @example
 * const proposer = await CommandProposer.open({ research, configDir, transcriptsDir: '.strata/logs/s/agent' });
 */
export class CommandProposer implements Proposer {
  readonly name = 'command';
  private readonly options: CommandProposerOptions;

  constructor(options: CommandProposerOptions) {
    this.options = options;
  }

  /** Check the command's program exists (on PATH or as a path) and load the research program, before any trial runs. */
  static async open(options: { research: ResearchConfig; configDir: string; transcriptsDir: string; env?: NodeJS.ProcessEnv }): Promise<CommandProposer> {
    const { research } = options;
    const command = research.agent.command;
    const env = options.env ?? process.env;
    if (!command) throw new ConfigError([{ path: 'research.agent_command', message: 'proposer: command needs the agent to run, e.g. "claude -p --permission-mode acceptEdits"' }]);
    // The first word that is not a VAR=value assignment is the program.
    const program = command.trim().split(/\s+/).find((word) => !/^[A-Za-z_]\w*=/.test(word)) ?? '';
    if (!findExecutable(program, env.PATH ?? '', options.configDir)) {
      throw new ConfigError([
        {
          path: 'research.agent_command',
          message: `${JSON.stringify(program)} was not found${program.includes('/') ? '' : ' on PATH'} or is not executable; install it or give its full path`,
        },
      ]);
    }
    return new CommandProposer({
      command,
      program: loadProgram(research, options.configDir),
      settings: research.agent,
      transcriptsDir: options.transcriptsDir,
      ...(options.env ? { env: options.env } : {}),
    });
  }

  repairTarget(history: readonly TrialSummary[]): { from: TrialSummary; relatedTrialId: number } | undefined {
    return chooseRepair(history, this.options.settings.maxFixAttempts);
  }

  async propose(context: ProposalContext): Promise<Proposal> {
    const { settings, transcriptsDir } = this.options;
    const files = new ProjectFiles(context.projectDir, context.config.editable);
    const brief = buildBrief(context, files, { program: this.options.program, format: 'command', maxTokens: settings.promptTokens, historyTrials: settings.historyTrials });
    const prompt = `${brief.system}\n\n${brief.prompt}\n`;
    await mkdir(transcriptsDir, { recursive: true });
    const promptPath = join(transcriptsDir, `${context.seq}-prompt.md`);
    const descriptionPath = join(transcriptsDir, `${context.seq}-description.txt`);
    const logPath = join(transcriptsDir, `${context.seq}-agent.log`);
    await writeFile(promptPath, prompt);
    rmSync(descriptionPath, { force: true });
    const run = await runProcess({
      command: this.options.command,
      cwd: context.projectDir,
      env: {
        ...definedOnly(this.options.env ?? process.env),
        STRATA_PROMPT_FILE: promptPath,
        STRATA_DESCRIPTION_FILE: descriptionPath,
        STRATA_TRIAL: String(context.seq),
      },
      budgetMs: settings.timeoutMs,
      graceMs: 0,
      killAfterMs: KILL_AFTER_MS,
      logPath,
      signal: context.signal,
      stdin: prompt,
    });
    const lastLines = run.logTail.slice(-5).join('\n');
    if (run.status === 'interrupted') throw context.signal.reason ?? new ProposalError('the agent was stopped');
    if (run.status === 'spawn_error') throw new ProposalError(`agent_command could not start: ${run.error ?? 'unknown error'}`, { details: { command: this.options.command } });
    if (run.status === 'timeout') {
      throw new ProposalError(`agent_command ran past research.agent_timeout (${Math.round(settings.timeoutMs / 1000)}s) and was killed; its output is in ${logPath}`, {
        details: { command: this.options.command, logPath },
      });
    }
    if (run.exitCode !== 0) {
      throw new ProposalError(`agent_command exited with ${run.exitCode ?? run.signal}; last output:\n${lastLines}\n(full output: ${logPath})`, {
        details: { command: this.options.command, exitCode: run.exitCode, logPath },
      });
    }
    const description = describe(descriptionPath, run.output);
    return {
      description: context.repairOf && !description.toLowerCase().startsWith('fix') ? `fix #${context.repairOf.seq}: ${description}` : description,
      meta: {
        agentCommand: this.options.command,
        wallMs: run.wallMs,
        transcript: logPath,
        ...(context.repairOf ? { repairOf: context.repairOf.seq } : {}),
      },
    };
  }
}

/** The agent's one-line description: its description file, its last DESCRIPTION: line, or its last line. */
function describe(descriptionPath: string, output: string): string {
  if (existsSync(descriptionPath)) {
    const line = firstLine(readFileSync(descriptionPath, 'utf8').replace(/^\s*DESCRIPTION\s*:\s*/i, ''));
    if (line) return line;
  }
  const lines = splitLines(output).map((line) => line.trim()).filter(Boolean);
  const tagged = lines.findLast((line) => /^[*_]*DESCRIPTION[*_]*\s*:/i.test(line));
  if (tagged) return tagged.replace(/^[*_]*DESCRIPTION[*_]*\s*:[*_]*\s*/i, '').trim();
  return lines.at(-1)?.slice(0, 200) ?? '';
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
