import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { AgentSettings, ResearchConfig } from '../../core/config/research-config.ts';
import { ConfigError, ProposalError } from '../../core/errors.ts';
import type { Proposal, ProposalContext, Proposer, TrialSummary } from '../../core/proposer.ts';
import { runProcess } from '../../executors/run-process.ts';
import { checkoutRoot } from '../../integrity/git-locations.ts';
import { AgentSandbox } from '../../sandbox/agent-sandbox.ts';
import type { SandboxCapabilities } from '../../sandbox/sandbox-capabilities.ts';
import { git } from '../../workspace/git.ts';
import { repositoryRoot, stateDirFor } from '../../workspace/state-dir.ts';
import { chooseRepair } from '../agent/crash-repair.ts';
import { ProjectFiles, splitLines } from '../agent/project-files.ts';
import { buildBrief } from '../agent/research-brief.ts';
import { loadProgram } from '../agent/research-program.ts';
import { agentProfile } from './agent-profiles.ts';
import { findExecutable } from './find-executable.ts';

export interface CommandProposerOptions {
  /** Shell command line of the external agent, run with `/bin/sh -c` in the trial's project folder. */
  command: string;
  /** The research program (program.md), placeholders filled. */
  program: string;
  settings: Pick<AgentSettings, 'timeoutMs' | 'maxFixAttempts' | 'promptTokens' | 'historyTrials'>;
  /** Where each proposal's prompt and output log are kept (`<seq>-prompt.md`, `<seq>-agent.log`). */
  transcriptsDir: string;
  /** The agent's sandbox (agent-sandbox.ts). */
  sandbox: AgentSandbox;
  /** Strata's state folder: only worktrees inside it are cleaned of what the agent left in ignored files. */
  stateDir: string;
  /** Base environment of the agent (default process.env); the sandbox scrubs it. */
  env?: NodeJS.ProcessEnv;
}

/** How long the agent's process group gets after SIGTERM at the timeout. */
const KILL_AFTER_MS = 5000;

/**
 * `proposer: command`: an external coding agent (Claude Code, Codex CLI, any
 * script) makes the change. Strata writes the brief to the file named by
 * `STRATA_PROMPT_FILE` and to the agent's stdin, runs `agent_command` in the
 * trial's project folder, in its own process group and in the agent's
 * sandbox (agent-sandbox.ts: only its worktree and its own state writable,
 * other credentials hidden), with `agent_timeout`, and takes what it
 * changed as the candidate (the loop refuses changes outside `editable` as
 * invalid). What it must not change (the repository's git config and hooks,
 * its own settings that start programs) is put back and fails the
 * proposal; what it left in ignored files is removed, since the candidate
 * is its commit. The description is the first line of the file named by
 * `STRATA_DESCRIPTION_FILE` if the agent wrote one, else its last
 * `DESCRIPTION:` line, else its last output line.
 *
 * @example
 * const proposer = await CommandProposer.open({ research, configDir, transcriptsDir: '.strata/logs/s/agent' });
 */
export class CommandProposer implements Proposer {
  readonly name = 'command';
  /** What the agent's sandbox could not give on this machine (it then runs unconfined), for the study's start message. */
  readonly warnings: readonly string[];
  private readonly options: CommandProposerOptions;

  constructor(options: CommandProposerOptions) {
    this.options = options;
    this.warnings = options.sandbox.warnings;
  }

  /**
   * Check the command's program exists (on PATH or as a path), load the
   * research program and open the agent's sandbox, before any trial runs.
   */
  static async open(options: {
    research: ResearchConfig;
    configDir: string;
    transcriptsDir: string;
    env?: NodeJS.ProcessEnv;
    /** What the machine offers; probed when absent (tests play other machines). */
    capabilities?: SandboxCapabilities;
  }): Promise<CommandProposer> {
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
    const stateDir = stateDirFor(options.configDir);
    const sandbox = await AgentSandbox.open({
      settings: research.agentSandbox,
      profile: agentProfile(command),
      repoRoot: repositoryRoot(options.configDir) ?? resolve(options.configDir),
      stateDir,
      // One folder per study (the transcripts are .strata/logs/<study>/agent).
      scratchDir: join(stateDir, 'sandbox', 'agent', basename(dirname(options.transcriptsDir))),
      holdoutData: research.holdoutData.map((path) => (isAbsolute(path) ? path : resolve(options.configDir, path))),
      configDir: options.configDir,
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
    });
    return new CommandProposer({
      command,
      program: loadProgram(research, options.configDir),
      settings: research.agent,
      transcriptsDir: options.transcriptsDir,
      sandbox,
      stateDir,
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
    const logPath = join(transcriptsDir, `${context.seq}-agent.log`);
    // The record of what the agent was told; the agent reads its own copy in the sandbox.
    await writeFile(join(transcriptsDir, `${context.seq}-prompt.md`), prompt);
    const contained = this.options.sandbox.prepare({
      name: `${context.seq}-${context.trialId}`,
      command: this.options.command,
      projectDir: context.projectDir,
      env: { ...(this.options.env ?? process.env), STRATA_TRIAL: String(context.seq) },
      prompt,
    });
    const run = await runProcess({
      command: contained.command,
      cwd: context.projectDir,
      env: contained.env,
      budgetMs: settings.timeoutMs,
      graceMs: 0,
      killAfterMs: KILL_AFTER_MS,
      logPath,
      signal: context.signal,
      stdin: prompt,
    });
    const checked = contained.finish(run);
    await this.dropIgnoredFiles(context.projectDir);
    if (checked.problems.length > 0) {
      throw new ProposalError(`the agent tried what its sandbox does not allow: ${checked.problems.join('; ')} (its output: ${logPath})`, {
        details: { command: this.options.command, problems: checked.problems, logPath },
      });
    }
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
    const description = describe(checked.description, run.output);
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

  /**
   * Remove what the agent left in ignored files of its worktree (build
   * output, a planted checkpoint, predictions in an ignored folder): the
   * trial runs in this worktree next, and must see the candidate's commit,
   * nothing more. Only Strata's own worktrees, never the user's checkout.
   */
  private async dropIgnoredFiles(projectDir: string): Promise<void> {
    const checkout = checkoutRoot(projectDir);
    if (checkout === undefined || !isInside(checkout, this.options.stateDir)) return;
    await git(['clean', '-ffdXq'], checkout);
  }
}

/** The agent's one-line description: its description file, its last DESCRIPTION: line, or its last line. */
function describe(descriptionFile: string | null, output: string): string {
  if (descriptionFile !== null) {
    const line = firstLine(descriptionFile.replace(/^\s*DESCRIPTION\s*:\s*/i, ''));
    if (line) return line;
  }
  const lines = splitLines(output).map((line) => line.trim()).filter(Boolean);
  const tagged = lines.findLast((line) => /^[*_]*DESCRIPTION[*_]*\s*:/i.test(line));
  if (tagged) return tagged.replace(/^[*_]*DESCRIPTION[*_]*\s*:[*_]*\s*/i, '').trim();
  return lines.at(-1)?.slice(0, 200) ?? '';
}

function isInside(path: string, folder: string): boolean {
  const inside = relative(folder, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
}

