import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { StudyConfig } from '../core/config/parse-config.ts';
import type { ResearchConfig } from '../core/config/research-config.ts';
import { requireSection } from '../core/config/require-section.ts';
import { ConfigError, StudyStateError } from '../core/errors.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';
import { gitText } from '../workspace/git.ts';
import { StudyRepository } from '../workspace/study-repository.ts';
import { uncommittedWarnings } from './uncommitted-warnings.ts';
import { assertNoStudyRefConflict } from '../workspace/study-ref-conflict.ts';
import { PARAMS_FILE } from '../proposers/search/search-proposer.ts';
import { StudySession } from '../study/study-session.ts';
import { StudyTrials } from '../study/study-trials.ts';
import { matchesGlob } from 'node:path';

/** Everything a running research study needs, opened and checked. */
export interface OpenedStudy {
  repo: StudyRepository;
  ledger: Ledger;
  study: StudyRecord;
  /** The study's trials and their transitions. */
  trials: StudyTrials;
  /** This process's claim on the study, its heartbeat and stop signal. */
  session: StudySession;
  config: StudyConfig;
  research: ResearchConfig;
  configPath: string;
  /** The project folder (holding strata.yaml) relative to the repository root, posix, '' at the root. */
  projectPrefix: string;
  branch: string;
  resumed: boolean;
  warnings: string[];
  worktreesDir: string;
  logsDir: string;
}

export function configHash(config: StudyConfig): string {
  return createHash('sha256').update(JSON.stringify(config.raw)).digest('hex').slice(0, 16);
}

/**
 * Open the repository and ledger for a research study, creating the study and
 * its branch `strata/<name>` from HEAD (or `baseCommit`) on first run, and
 * starting this process's session on it (the claim comes before anything
 * else is written, so a second orchestrator changes nothing).
 */
export async function openResearchStudy(options: { configPath: string; config: StudyConfig; ledgerPath?: string; baseCommit?: string; signal?: AbortSignal }): Promise<OpenedStudy> {
  const { config } = options;
  requireSection(config, 'research', options.configPath);
  const research = config.research!;
  const configPath = realpathSync(options.configPath);
  const repo = await StudyRepository.open(dirname(configPath));
  const projectPrefix = relative(repo.root, dirname(configPath)).split(sep).join('/');
  await repo.ignoreStateDir();
  const ledger = Ledger.open(options.ledgerPath ?? join(repo.stateDir, 'ledger.db'));
  let session: StudySession | undefined;
  try {
    const branch = `strata/${config.name}`;
    const warnings: string[] = [];
    let study = ledger.studyByName(config.name);
    const resumed = study !== undefined;
    if (!study) {
      const base = options.baseCommit ?? (await repo.head());
      await checkCommitted(repo, base, projectPrefix, research, options.configPath);
      // A given base commit (a pipeline stage) does not come from the user's checkout: its changes are not at issue.
      const dirty = options.baseCommit === undefined ? await repo.uncommitted(projectPrefix) : [];
      warnings.push(...uncommittedWarnings(dirty, relative(repo.root, configPath).split(sep).join('/'), base));
      if (await repo.resolveCommit(`refs/heads/${branch}`)) {
        throw new StudyStateError(
          `branch ${branch} already exists but the ledger has no study "${config.name}": choose another name, or delete the branch (git branch -D ${branch})`,
          { branch },
        );
      }
      // Refs are paths: strata/a and strata/a/b cannot both exist, so a colliding name is refused before the ledger knows the study.
      await assertNoStudyRefConflict(repo.root, config.name);
      const studyId = ledger.transaction(() => {
        const id = ledger.nextId('studies');
        ledger.record(
          'study.created',
          { studyId: id, name: config.name, kind: 'research', config: config.raw, configHash: configHash(config), branch, baseCommit: base },
          { studyId: id },
        );
        return id;
      });
      study = ledger.study(studyId);
      session = StudySession.start(ledger, study.id, { ...(options.signal ? { signal: options.signal } : {}) });
      await repo.ensureBranch(branch, base);
    } else {
      if (study.kind !== 'research') {
        throw new StudyStateError(`study "${config.name}" in the ledger is a ${study.kind} study, not research: choose another name`);
      }
      checkCompatible(study, config, options.configPath);
      session = StudySession.start(ledger, study.id, { ...(options.signal ? { signal: options.signal } : {}) });
      // A kill between the ledger write and the branch creation leaves no branch: make it now.
      await repo.ensureBranch(branch, study.baseCommit!);
      if (study.configHash !== configHash(config)) {
        warnings.push('strata.yaml changed since this study last ran; the new settings apply from the next trial');
        ledger.record('study.config_changed', { studyId: study.id, config: config.raw, configHash: configHash(config) }, { studyId: study.id });
      }
    }
    return {
      repo,
      ledger,
      study: ledger.study(study.id),
      trials: new StudyTrials(ledger, study.id),
      session,
      config,
      research,
      configPath,
      projectPrefix,
      branch,
      resumed,
      warnings,
      worktreesDir: join(repo.stateDir, 'worktrees', config.name),
      logsDir: join(repo.stateDir, 'logs', config.name),
    };
  } catch (error) {
    // Marked running already (the branch could not be made again, the ledger could not record a config change): pause
    // with the error, or `strata status` would show it running with no process alive.
    session?.endOnError(error);
    session?.close();
    ledger.close();
    throw error;
  }
}

/** A study's metric cannot change under it: old and new results would not compare. */
function checkCompatible(study: StudyRecord, config: StudyConfig, file: string): void {
  const before = (study.config as { research?: { metric?: { name: string; goal: string } } }).research?.metric;
  const now = config.research!.metric;
  if (before && (before.name !== now.name || before.goal !== now.goal)) {
    throw new ConfigError(
      [
        {
          path: 'research.metric',
          message: `study "${study.name}" was started with ${before.goal} ${before.name}; results would not compare. Use a new \`name:\` for a new metric`,
        },
      ],
      file,
    );
  }
}

/** Every editable glob must match a committed file (or be strata.params.json), or trials would run code the user cannot see in git. */
async function checkCommitted(repo: StudyRepository, base: string, prefix: string, research: ResearchConfig, file: string): Promise<void> {
  const listed = await gitText(['ls-tree', '-r', '--name-only', base, '--', prefix === '' ? '.' : prefix], repo.root);
  const files = listed
    .split('\n')
    .filter(Boolean)
    .map((path) => (prefix === '' ? path : path.slice(prefix.length + 1)));
  // Strata's own params file need not exist yet: the search proposer writes it into every candidate.
  const missing = research.editable.filter((glob) => !matchesGlob(PARAMS_FILE, glob) && !files.some((path) => matchesGlob(path, glob)));
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((glob) => ({
        path: 'research.editable',
        message: `${JSON.stringify(glob)} matches no committed file${prefix ? ` under ${prefix}/` : ''}; trials run on committed code: git add and commit it first`,
      })),
      file,
    );
  }
}
