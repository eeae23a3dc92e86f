/**
 * The sandbox every trial process of a study runs in (run, evaluate and
 * holdout stages alike):
 * - a scrubbed environment with its own HOME and TMPDIR (scrub-environment.ts);
 * - with bubblewrap (contain-command.ts): no capabilities and no_new_privs,
 *   whoever started Strata, so nothing inside can change its own mounts;
 *   its own PID namespace, so every process it started, daemons included,
 *   dies with it; the whole file system read-only except the trial's own
 *   folders (and `sandbox_writable`); Strata's state folder, the ledger,
 *   holdout data and credential files out of sight; private /tmp, /run and
 *   /dev; with `network: off`, a network namespace with only loopback;
 * - with cgroups: memory and process-count limits for the whole tree, and a
 *   final sweep of anything left in the cgroup; without them, prlimit.
 * What cannot be enforced here is either refused with a message saying what
 * to install (network: off, holdout_data), or named in `warnings`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { ExecutionRequest, ExecutionResult, Executor } from '../core/executor.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';
import { containCommand, type Containment } from './contain-command.ts';
import { credentialPaths, PROJECT_CREDENTIALS } from './credential-paths.ts';
import { cleanGitConfigCopy } from './git-config-copy.ts';
import { HOW_TO_GET_BUBBLEWRAP, probeSandbox, type SandboxCapabilities } from './sandbox-capabilities.ts';
import { hiddenMarkerFolder, setupFailure } from './sandbox-setup.ts';
import { scrubEnvironment } from './scrub-environment.ts';
import { TrialCgroup } from './trial-cgroup.ts';

/** Distinguishes this orchestrator's cgroups from those of an earlier process that had the same pid. */
const SESSION_TOKEN = randomBytes(4).toString('hex');

export { SandboxUnavailableError } from './sandbox-unavailable-error.ts';

/** The sandbox part of `research` in strata.yaml, normalized. */
export interface SandboxSettings {
  network: 'on' | 'off';
  /** Per trial, for the whole process tree. */
  limits: { memoryBytes?: number; processes?: number };
  /** Absolute paths that only the holdout stage may read. */
  holdoutData: readonly string[];
  /** `env_passthrough`: names or `*` globs of secret-looking variables trials still get. */
  envPassthrough?: readonly string[];
  /** `sandbox_readable`: folders trials may read that would be out of sight (under /tmp or /run). Relative to `configDir`; `~/` is HOME. */
  readable?: readonly string[];
  /** `sandbox_writable`: folders trials may write besides their own (a shared model cache, a checkpoint disk). */
  writable?: readonly string[];
}

/** One stage of one trial, as the sandbox needs to know it. */
export interface SandboxStage {
  /** Unique per stage: names its HOME/TMPDIR folder and cgroup, e.g. `12-1-run`. */
  name: string;
  /** The folder the stage may write (its worktree or evaluation checkout). */
  workdir: string;
  /** The trial's artifacts folder: writable for the run stage, read-only after. */
  artifacts: string;
  artifactsWritable: boolean;
  /** Only the holdout stage sees research.holdout_data. */
  readsHoldoutData: boolean;
}

export interface StudySandboxOptions {
  settings: SandboxSettings;
  /** The repository root: read-only for trials, except their own folders. */
  repoRoot: string;
  /** Strata's state folder (`<repo>/.strata`): out of sight for trials but for their own folders. Default `<repoRoot>/.strata`. */
  stateDir?: string;
  /** Where per-stage HOME and TMPDIR folders are made (inside the repository's state folder). */
  scratchDir: string;
  /** Paths trials must never read: the ledger files, logs, holdout results. */
  hiddenFromTrials: readonly string[];
  /** Variables `research.env` sets on purpose: they pass the scrub. */
  explicitEnv: readonly string[];
  /** The executor's kind: only local processes can be contained by this machine. */
  executorKind: string;
  /** The config file's folder: relative `sandbox_readable` and `sandbox_writable` paths start there. */
  configDir?: string;
  /** What the machine offers; probed when absent (given by tests that play another machine). */
  capabilities?: SandboxCapabilities;
}

export class StudySandbox {
  readonly capabilities: SandboxCapabilities;
  /** One line saying how trials are contained, for the study's start message. */
  readonly summary: string;
  /** What the config did not ask for but could not be had either. */
  readonly warnings: string[];
  private readonly options: StudySandboxOptions;
  private readonly contained: boolean;
  private readonly limitsBy: 'cgroup' | 'prlimit' | 'none';
  private readonly readable: string[];
  private readonly writable: string[];

  private constructor(
    options: StudySandboxOptions,
    capabilities: SandboxCapabilities,
    enforcement: { contained: boolean; limitsBy: 'cgroup' | 'prlimit' | 'none' },
    summary: string,
    warnings: string[],
  ) {
    this.options = options;
    this.capabilities = capabilities;
    this.contained = enforcement.contained;
    this.limitsBy = enforcement.limitsBy;
    this.summary = summary;
    this.warnings = warnings;
    const base = options.configDir ?? options.repoRoot;
    this.readable = (options.settings.readable ?? []).map((path) => expandPath(path, base));
    this.writable = (options.settings.writable ?? []).map((path) => expandPath(path, base));
  }

  /**
   * Probe the machine and check the settings against it. Throws
   * SandboxUnavailableError when `network: off` or `holdout_data` cannot be
   * enforced, rather than run trials unprotected.
   *
   * @example
   * const sandbox = await StudySandbox.open({ settings, repoRoot, scratchDir, hiddenFromTrials: [ledgerPath], explicitEnv: [], executorKind: 'local' });
   * const executor = sandbox.executorFor(localExecutor, { name: '3-1-run', workdir, artifacts, artifactsWritable: true, readsHoldoutData: false });
   */
  static async open(options: StudySandboxOptions): Promise<StudySandbox> {
    const { settings } = options;
    const capabilities = options.capabilities ?? (await probeSandbox());
    const local = options.executorKind === 'local';
    const namespaces = local ? capabilities.namespaces : null;
    const problems: string[] = [];
    const why = capabilities.notes.join('; ') || 'no bubblewrap';
    if (settings.network === 'off' && !namespaces?.network) {
      problems.push(local ? `research.network: off needs a network namespace, which this machine cannot create (${why}); ${HOW_TO_GET_BUBBLEWRAP}` : `research.network: off needs the local executor (the ${options.executorKind} executor cannot be contained from here); use the cluster's own network policy and remove network: off`);
    }
    if (settings.holdoutData.length > 0 && !namespaces) {
      problems.push(local ? `research.holdout_data needs a sandbox to hide the holdout data from trials, which this machine cannot set up (${why}); ${HOW_TO_GET_BUBBLEWRAP}` : `research.holdout_data needs the local executor to hide the data from trials`);
    }
    if (problems.length > 0) throw new SandboxUnavailableError(`the sandbox cannot be set up: ${problems.join('; ')}`, { problems, notes: capabilities.notes });

    const warnings: string[] = [];
    const parts: string[] = [];
    // Cgroups of trials whose orchestrator was killed are never removed by it: the next study to start does.
    if (capabilities.cgroup && local) await TrialCgroup.removeStale(capabilities.cgroup);
    if (namespaces) {
      parts.push(`bubblewrap (${namespaces.userNamespace ? 'user namespace, ' : ''}no capabilities, read-only file system, private /tmp)`);
      if (!namespaces.gracefulStop) warnings.push(`trials are killed at once at budget + grace, without SIGTERM first: ${capabilities.notes.find((note) => note.startsWith('env --default-signal')) ?? 'env --default-signal is missing'}`);
    } else if (local) {
      warnings.push(
        `trials run unconfined${capabilities.isRoot ? ', as root' : ''} (${why}): they can write the repository and read the ledger, and daemons that leave their process group are only killed where a cgroup catches them; to confine them, ${HOW_TO_GET_BUBBLEWRAP}`,
      );
    }
    parts.push(`network ${settings.network}`);
    const { memoryBytes, processes } = settings.limits;
    let limitsBy: 'cgroup' | 'prlimit' | 'none' = 'none';
    if (memoryBytes !== undefined || processes !== undefined) {
      const cgroup = capabilities.cgroup;
      const byCgroup = cgroup !== null && local && (memoryBytes === undefined || (cgroup.version === 1 ? cgroup.memoryParent !== null : cgroup.memory)) && (processes === undefined || (cgroup.version === 1 ? cgroup.pidsParent !== null : cgroup.pids));
      if (byCgroup) {
        limitsBy = 'cgroup';
        parts.push(`cgroup v${cgroup!.version} limits`);
      } else if (!local) warnings.push(`research.limits are not enforced by Strata on the ${options.executorKind} executor; set them in its own configuration`);
      else if (capabilities.prlimit) {
        limitsBy = 'prlimit';
        parts.push('prlimit limits');
        if (memoryBytes !== undefined) warnings.push('no usable cgroup: the memory limit is an address-space limit per process (RLIMIT_AS), which GPU frameworks that reserve large address ranges may hit early');
        if (processes !== undefined) warnings.push(`no usable cgroup: the process limit is RLIMIT_NPROC, counted per user${capabilities.isRoot ? ', and not enforced for root' : ''}`);
      } else warnings.push('research.limits cannot be enforced: no usable cgroup and no prlimit');
    } else if (capabilities.cgroup && local) parts.push(`cgroup v${capabilities.cgroup.version} sweep`);
    return new StudySandbox(options, capabilities, { contained: namespaces !== null, limitsBy }, parts.join(', '), warnings);
  }

  /** An executor that runs `stage` contained; each run gets fresh HOME and TMPDIR folders, removed afterwards. */
  executorFor(inner: Executor, stage: SandboxStage): Executor {
    return { kind: inner.kind, run: (request) => this.run(inner, stage, request) };
  }

  private async run(inner: Executor, stage: SandboxStage, request: ExecutionRequest): Promise<ExecutionResult> {
    const { settings } = this.options;
    const local = this.options.executorKind === 'local';
    const scratch = join(this.options.scratchDir, stage.name);
    const home = join(scratch, 'home');
    const tmp = join(scratch, 'tmp');
    await rm(scratch, { recursive: true, force: true });
    await mkdir(home, { recursive: true });
    await mkdir(tmp, { recursive: true });
    const env = scrubEnvironment(request.env, {
      explicit: this.options.explicitEnv,
      passthrough: settings.envPassthrough ?? [],
      home,
      tmp,
      extra: { STRATA_ARTIFACTS: stage.artifacts },
      original: process.env,
    });
    if (!local) {
      try {
        return await inner.run({ ...request, env });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }

    const { memoryBytes, processes } = settings.limits;
    const cgroupSupport = this.capabilities.cgroup;
    // The pid alone is not unique over time (pids wrap): a cgroup an earlier, killed orchestrator with the same pid left
    // behind, with its limits, must never be joined. The session token makes the name this process's own.
    const cgroup = cgroupSupport ? await TrialCgroup.create(cgroupSupport, `strata-${process.pid}-${SESSION_TOKEN}-${stage.name}`, this.limitsBy === 'cgroup' ? settings.limits : {}) : null;
    const { repoRoot } = this.options;
    const statusFile = join(scratch, 'bwrap-status.json');
    const containment: Containment = {
      network: settings.network === 'on',
      covered: [this.options.stateDir ?? join(repoRoot, '.strata')],
      // Artifacts are the run's to write; evaluate and holdout only read them.
      readable: [repoRoot, ...this.readable, ...(stage.readsHoldoutData ? settings.holdoutData : []), ...(stage.artifactsWritable ? [] : [stage.artifacts])],
      writable: [stage.workdir, home, tmp, ...(stage.artifactsWritable ? [stage.artifacts] : []), ...this.writable],
      // The worktree's pointer to its git folder: redirected, it would make Strata's next git call there read a config the trial wrote.
      readOnlyInside: [join(stage.workdir, '.git')],
      hidden: [
        ...this.options.hiddenFromTrials,
        ...(stage.readsHoldoutData ? [] : settings.holdoutData),
        ...credentialPaths({ granted: [...this.readable, ...this.writable] }),
        ...PROJECT_CREDENTIALS.map((name) => join(repoRoot, name)),
      ],
      replaced: this.contained ? cleanGitConfigCopy(repoRoot, scratch) : [],
      markerDir: this.contained ? hiddenMarkerFolder(this.options.scratchDir) : '',
      statusFile,
      cgroupProcs: cgroup?.procsFiles ?? [],
      ...(this.limitsBy === 'prlimit' && this.capabilities.prlimit
        ? { rlimits: { prlimit: this.capabilities.prlimit, ...(memoryBytes !== undefined ? { addressSpaceBytes: memoryBytes } : {}), ...(processes !== undefined ? { processes } : {}) } }
        : {}),
    };
    const command = containCommand(request.command, containment, this.contained ? this.capabilities.namespaces : null);
    let result: ExecutionResult | undefined;
    try {
      result = await inner.run({ ...request, command, env });
      const failed = this.contained ? setupFailure(result, statusFile) : null;
      if (failed !== null) {
        throw new SandboxUnavailableError(`the sandbox could not be set up for ${stage.name} (${failed}); this is the machine, not the training script: ${HOW_TO_GET_BUBBLEWRAP}, or report it with that line`, {
          stage: stage.name,
          bwrap: failed,
        });
      }
      return result;
    } finally {
      const notes: string[] = [];
      if (cgroup) {
        const oomKills = await cgroup.oomKills();
        if (oomKills > 0) notes.push(`killed by the memory limit (${formatBytes(memoryBytes ?? 0)}): ${oomKills} OOM kill${oomKills === 1 ? '' : 's'}`);
        const leftovers = await cgroup.killAndRemove();
        if (leftovers.length > 0) notes.push(`killed ${leftovers.length} process${leftovers.length === 1 ? '' : 'es'} the trial left running (pids ${leftovers.slice(0, 5).join(', ')})`);
      }
      await rm(scratch, { recursive: true, force: true });
      if (result && notes.length > 0) result.error = [result.error, ...notes].filter(Boolean).join('; ');
    }
  }
}

/** A configured path: `~/…` under HOME, relative ones from `base`. */
export function expandPath(path: string, base: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${Number(gib.toFixed(2))} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}
