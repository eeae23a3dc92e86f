/**
 * The sandbox of an external coding agent (`proposer: command`). The agent
 * is untrusted like a trial, but needs more: its own credentials and the
 * network to reach its model. With bubblewrap it runs with no capabilities
 * and no_new_privs, and sees:
 * - the host read-only, private /tmp and /run, Strata's state folder out of
 *   sight (the ledger, logs, holdout results, other worktrees);
 * - its worktree writable, except the worktree's `.git` pointer; the
 *   repository's `.git` and the user's checkout read-only;
 * - in HOME only its own state writable (profile.writable), with the files
 *   that would run code in the user's own sessions read-only inside it; the
 *   credentials of everything else hidden;
 * - the network (`agent_sandbox.network`, default on) and its own API keys
 *   (profile.env and `agent_sandbox.env_passthrough`), nothing else secret.
 * Around each run, with or without bubblewrap: the repository's git control
 * files, the agent's guarded settings (MCP servers) and its read-only files
 * are checked and put back, and what changed is reported.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { checkoutRoot } from '../integrity/git-locations.ts';
import { describeGitControlChanges, GitControlFiles } from '../integrity/git-control-files.ts';
import type { AgentProfile } from './agent-profile.ts';
import { containCommand, type Containment } from './contain-command.ts';
import { credentialPaths, PROJECT_CREDENTIALS } from './credential-paths.ts';
import { cleanGitConfigCopy } from './git-config-copy.ts';
import { HOW_TO_GET_BUBBLEWRAP, probeSandbox, type SandboxCapabilities } from './sandbox-capabilities.ts';
import { hiddenMarkerFolder, setupFailure } from './sandbox-setup.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';
import { scrubEnvironment } from './scrub-environment.ts';
import { expandPath } from './study-sandbox.ts';

/** `research.agent_sandbox`, normalized. */
export interface AgentSandboxSettings {
  network: 'on' | 'off';
  /** More folders the agent may write (`~/` is HOME; relative to the config's folder). */
  writable: readonly string[];
  /** More variables the agent gets (names or `*` globs). */
  envPassthrough: readonly string[];
}

export interface AgentSandboxOptions {
  settings: AgentSandboxSettings;
  profile: AgentProfile;
  /** The repository: readable, never writable. */
  repoRoot: string;
  /** Strata's state folder: out of sight but for the agent's own folders. */
  stateDir: string;
  /** Where each run's TMPDIR, prompt and description files are made. */
  scratchDir: string;
  /** research.holdout_data, absolute. */
  holdoutData: readonly string[];
  configDir: string;
  /** What the machine offers; probed when absent (given by tests that play another machine). */
  capabilities?: SandboxCapabilities;
}

/** One run of the agent: what to run, and the checks after it. */
export interface AgentRun {
  /** The agent's command line, contained. */
  command: string;
  env: Record<string, string>;
  /** Where the agent reads the brief ($STRATA_PROMPT_FILE) and writes its description ($STRATA_DESCRIPTION_FILE). */
  promptPath: string;
  descriptionPath: string;
  /**
   * After the agent exited: throws SandboxUnavailableError when the sandbox
   * never started it; otherwise puts back what it must not have changed and
   * returns what that was (empty when nothing), and the description it wrote.
   */
  finish(result: { status: string; exitCode: number | null; output: string }): { problems: string[]; description: string | null };
}

export class AgentSandbox {
  /** One line: how the agent is contained. */
  readonly summary: string;
  /** What could not be had (no bubblewrap): the agent runs unconfined, and says so. */
  readonly warnings: string[];
  private readonly options: AgentSandboxOptions;
  private readonly capabilities: SandboxCapabilities;

  private constructor(options: AgentSandboxOptions, capabilities: SandboxCapabilities, summary: string, warnings: string[]) {
    this.options = options;
    this.capabilities = capabilities;
    this.summary = summary;
    this.warnings = warnings;
  }

  /**
   * Probe the machine; refuses `agent_sandbox.network: off` it cannot enforce.
   *
   * @example
   * const sandbox = await AgentSandbox.open({ settings, profile: claudeCode, repoRoot, stateDir, scratchDir, holdoutData: [], configDir });
   * const run = sandbox.prepare({ name: '3', command: 'claude -p', projectDir, env: process.env, prompt });
   */
  static async open(options: AgentSandboxOptions): Promise<AgentSandbox> {
    const capabilities = options.capabilities ?? (await probeSandbox());
    const namespaces = capabilities.namespaces;
    const why = capabilities.notes.join('; ') || 'no bubblewrap';
    if (options.settings.network === 'off' && !namespaces?.network) {
      throw new SandboxUnavailableError(`research.agent_sandbox.network: off needs a network namespace, which this machine cannot create (${why}); ${HOW_TO_GET_BUBBLEWRAP}`, { notes: capabilities.notes });
    }
    const warnings: string[] = [];
    if (!namespaces) {
      warnings.push(
        `the coding agent (${options.profile.name}) runs unconfined${capabilities.isRoot ? ', as root' : ''} (${why}): it can write your checkout and read every credential this user has; Strata still puts back the git config and its settings afterwards. To confine it, ${HOW_TO_GET_BUBBLEWRAP}`,
      );
    }
    const summary = namespaces ? `bubblewrap, network ${options.settings.network}, ${options.profile.name}'s own files writable` : 'unconfined';
    return new AgentSandbox(options, capabilities, summary, warnings);
  }

  /** Set up one run named `name` (unique among concurrent runs) of `command` in `projectDir`, whose checkout is the agent's to edit. */
  prepare(input: { name: string; command: string; projectDir: string; env: Readonly<Record<string, string | undefined>>; prompt: string }): AgentRun {
    const { options } = this;
    const { profile, settings } = options;
    const home = homedir();
    const scratch = join(options.scratchDir, input.name);
    const tmp = join(scratch, 'tmp');
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const promptPath = join(scratch, 'prompt.md');
    const descriptionPath = join(scratch, 'description.txt');
    writeFileSync(promptPath, input.prompt);
    const checkout = checkoutRoot(input.projectDir) ?? input.projectDir;
    const inHome = (paths: readonly string[]) => paths.map((path) => join(home, path));
    const defined = Object.fromEntries(Object.entries(input.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const env = scrubEnvironment(defined, {
      explicit: [],
      passthrough: [...profile.env, ...settings.envPassthrough],
      tmp,
      extra: { STRATA_PROMPT_FILE: promptPath, STRATA_DESCRIPTION_FILE: descriptionPath },
    });
    const support = this.capabilities.namespaces;
    const configured = settings.writable.map((path) => expandPath(path, options.configDir));
    const containment: Containment = {
      network: settings.network === 'on',
      // The agent's own program stays reachable wherever it is installed (a private /tmp would hide one kept there).
      readable: [options.repoRoot, ...inHome(profile.readable), ...programFolder(input.command, defined.PATH ?? '', input.projectDir)],
      covered: [options.stateDir],
      writable: [checkout, scratch, ...inHome(profile.writable), ...configured],
      readOnlyInside: [join(checkout, '.git'), ...inHome(profile.readOnlyInside)],
      hidden: [
        ...options.holdoutData,
        ...credentialPaths({ keep: [...profile.writable, ...profile.readable], granted: configured }),
        ...PROJECT_CREDENTIALS.map((file) => join(options.repoRoot, file)),
      ],
      replaced: support ? cleanGitConfigCopy(options.repoRoot, scratch) : [],
      markerDir: support ? hiddenMarkerFolder(options.scratchDir) : '',
      statusFile: join(scratch, 'bwrap-status.json'),
      cgroupProcs: [],
    };
    const git = GitControlFiles.read(checkout);
    const absentReadOnly = inHome(profile.readOnlyInside).filter((path) => !existsSync(path));
    const guarded = profile.guarded.map(({ path, pick }) => ({ path: join(home, path), pick, before: readJson(join(home, path)) }));
    return {
      command: containCommand(input.command, containment, support),
      env,
      promptPath,
      descriptionPath,
      finish: (result) => {
        try {
          const failed = support ? setupFailure(result, containment.statusFile!) : null;
          if (failed !== null) {
            throw new SandboxUnavailableError(`the coding agent's sandbox could not be set up (${failed}); this is the machine, not the agent: ${HOW_TO_GET_BUBBLEWRAP}, or report it with that line`, { bwrap: failed });
          }
          const problems: string[] = [];
          const changed = git?.changes() ?? [];
          if (changed.length > 0) {
            git!.restore();
            problems.push(describeGitControlChanges(changed));
          }
          const created = absentReadOnly.filter((path) => existsSync(path));
          for (const path of created) rmSync(path, { recursive: true, force: true });
          if (created.length > 0) problems.push(`the agent created ${created.join(', ')}, which would run in your own sessions of ${profile.name}; Strata removed ${created.length === 1 ? 'it' : 'them'}`);
          for (const file of guarded) {
            const restored = restorePicked(file.path, file.pick, file.before);
            if (restored) problems.push(`the agent changed ${file.path} where it names programs to start (${restored}); Strata put that part back`);
          }
          const description = existsSync(descriptionPath) ? readFileSync(descriptionPath, 'utf8') : null;
          return { problems, description };
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      },
    };
  }
}

/** A JSON file's parsed content; undefined when it is missing or not JSON (then there is nothing to compare). */
function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * When the picked part of the JSON file changed since `before`: write the
 * old part back over the new file (keeping everything else the agent
 * legitimately changed) and say which keys; null when nothing changed.
 */
function restorePicked(path: string, pick: (json: unknown) => unknown, before: unknown): string | null {
  const now = readJson(path);
  const wasPicked = before === undefined ? {} : pick(before);
  const nowPicked = now === undefined ? {} : pick(now);
  if (isDeepStrictEqual(wasPicked, nowPicked)) return null;
  if (before === undefined) {
    rmSync(path, { force: true });
    return 'created';
  }
  const restored = isRecord(now) && isRecord(before) ? mergePicked(now, before, pick) : before;
  writeFileSync(path, `${JSON.stringify(restored, null, 2)}\n`);
  return Object.keys(isRecord(nowPicked) ? nowPicked : {}).join(', ') || 'its programs';
}

/** `now` with every top-level key `pick` looks at taken from `before`. */
function mergePicked(now: Record<string, unknown>, before: Record<string, unknown>, pick: (json: unknown) => unknown): Record<string, unknown> {
  const keys = new Set([...Object.keys(asRecord(pick(now))), ...Object.keys(asRecord(pick(before)))]);
  const merged: Record<string, unknown> = { ...now };
  for (const key of keys) {
    if (key in before) merged[key] = before[key];
    else delete merged[key];
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** The folder holding the program a command line starts (its first word, found as a shell would), if it can be found. */
function programFolder(command: string, path: string, cwd: string): string[] {
  const program = /^\s*(?:'([^']+)'|"([^"]+)"|(\S+))/.exec(command);
  const name = program?.[1] ?? program?.[2] ?? program?.[3];
  if (!name) return [];
  const candidates = name.includes('/') ? [isAbsolute(name) ? name : resolve(cwd, name)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  const found = candidates.find((candidate) => existsSync(candidate));
  return found ? [dirname(found)] : [];
}
