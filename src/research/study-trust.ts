/**
 * What a research session sets up once so that every trial's result can be
 * trusted: the acceptance rule (noise-aware for new studies), the integrity
 * reference of the protected files (taken from a pristine checkout of the
 * study's base commit), the sandbox, and the folders for artifacts and
 * sealed holdout logs. Opened by run-research before any trial, then looked
 * up by each trial.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Acceptance } from '../core/acceptance.ts';
import { ConfigError } from '../core/errors.ts';
import { noiseAwareAcceptance } from '../acceptance/noise-aware-acceptance.ts';
import { strictAcceptance } from '../acceptance/strict-acceptance.ts';
import { thresholdAcceptance } from '../acceptance/threshold-acceptance.ts';
import { IntegrityGuard } from '../integrity/integrity-guard.ts';
import { StudySandbox } from '../sandbox/study-sandbox.ts';
import { gitText } from '../workspace/git.ts';
import type { OpenedStudy } from './open-study.ts';

export type AcceptanceRule = 'noise-aware' | 'strict' | 'threshold';

/** The session's trust setup; see prepareStudyTrust. */
export interface StudyTrust {
  /** The rule named by the config, else the one the study was started with. */
  rule: AcceptanceRule;
  acceptance: Acceptance;
  guard: IntegrityGuard;
  sandbox: StudySandbox;
  /** `.strata/artifacts/<study>`: one folder per trial, $STRATA_ARTIFACTS. */
  artifactsDir: string;
  /** `.strata/holdout/<study>`: holdout logs, hidden from every trial. */
  holdoutLogsDir: string;
  /** research.holdout_data, absolute. */
  holdoutData: string[];
}

const prepared = new WeakMap<OpenedStudy, StudyTrust>();

/**
 * Set up trust for this session: choose (and on first run record) the
 * acceptance rule, take the integrity reference, open the sandbox (which
 * refuses `network: off` or `holdout_data` it cannot enforce), check that
 * holdout data is not in git. Its warnings join `opened.warnings`.
 *
 * @example
 * const trust = await prepareStudyTrust(opened, executor.kind);
 * trust.acceptance.decide({ goal, candidate: [1.2], incumbent: [1.3, 1.31] });
 */
export async function prepareStudyTrust(opened: OpenedStudy, executorKind: string): Promise<StudyTrust> {
  const existing = prepared.get(opened);
  if (existing) return existing;
  const { research, repo, study, ledger } = opened;
  const configDir = dirname(opened.configPath);
  const holdoutData = research.holdoutData.map((path) => (isAbsolute(path) ? path : resolve(configDir, path)));
  await refuseTrackedHoldoutData(opened, holdoutData);

  const rule = chooseRule(opened);
  const acceptance = createAcceptance(rule, opened);

  const referenceDir = join(opened.worktreesDir, 'integrity-reference');
  await repo.removeWorktree(referenceDir);
  await repo.createWorktree(referenceDir, study.baseCommit!);
  let guard: IntegrityGuard;
  try {
    const globs = [...research.protected, ...configGlob(opened)];
    guard = await IntegrityGuard.fromCheckout(opened.projectPrefix ? join(referenceDir, opened.projectPrefix) : referenceDir, globs);
  } finally {
    await repo.removeWorktree(referenceDir);
  }

  const ledgerPath = ledger.path;
  const sandbox = await StudySandbox.open({
    settings: { ...research.sandbox, holdoutData },
    repoRoot: repo.root,
    stateDir: repo.stateDir,
    configDir,
    scratchDir: join(repo.stateDir, 'sandbox', study.name),
    hiddenFromTrials: [ledgerPath, `${ledgerPath}-wal`, `${ledgerPath}-shm`, join(repo.stateDir, 'logs'), join(repo.stateDir, 'holdout')],
    explicitEnv: Object.keys(research.env),
    executorKind,
  });
  opened.warnings.push(...sandbox.warnings);
  const trust: StudyTrust = {
    rule,
    acceptance,
    guard,
    sandbox,
    artifactsDir: join(repo.stateDir, 'artifacts', study.name),
    holdoutLogsDir: join(repo.stateDir, 'holdout', study.name),
    holdoutData,
  };
  prepared.set(opened, trust);
  return trust;
}

/** The trust setup of this session; prepareStudyTrust must have run. */
export function studyTrust(opened: OpenedStudy): StudyTrust {
  const trust = prepared.get(opened);
  if (!trust) throw new Error('prepareStudyTrust(opened) must run before trials: run-research does this when a session starts');
  return trust;
}

/**
 * Remove the artifacts of finished trials, except the best's (the holdout
 * stage may still read them). Running trials keep theirs.
 */
export async function pruneArtifacts(opened: OpenedStudy): Promise<void> {
  const trust = studyTrust(opened);
  if (!existsSync(trust.artifactsDir)) return;
  const bestId = opened.ledger.study(opened.study.id).bestTrialId;
  const finished = new Set(
    opened.ledger
      .trials(opened.study.id)
      .filter((trial) => trial.id !== bestId && trial.status !== 'queued' && trial.status !== 'running')
      .map((trial) => `${trial.seq}-${trial.attempt}`),
  );
  for (const name of await readdir(trust.artifactsDir)) {
    if (finished.has(name)) await rm(join(trust.artifactsDir, name), { recursive: true, force: true });
  }
}

/**
 * The config names a rule: that one. Otherwise the rule recorded when the
 * study first started; a study with no record is new (noise-aware) unless
 * it already has trials from before acceptance rules existed (strict, as it
 * ran then).
 */
function chooseRule(opened: OpenedStudy): AcceptanceRule {
  const { ledger, study, research } = opened;
  const recorded = ledger.research.acceptanceRule(study.id) as AcceptanceRule | undefined;
  const rule = research.acceptance.rule ?? recorded ?? (ledger.trials(study.id).length === 0 ? 'noise-aware' : 'strict');
  if (rule !== recorded) ledger.record('study.acceptance_chosen', { studyId: study.id, rule }, { studyId: study.id });
  return rule;
}

function createAcceptance(rule: AcceptanceRule, opened: OpenedStudy): Acceptance {
  const settings = opened.research.acceptance;
  if (rule === 'strict') return strictAcceptance;
  if (rule === 'threshold') return thresholdAcceptance(settings.minDelta);
  return noiseAwareAcceptance({ baselineRepeats: settings.baselineRepeats, minDelta: settings.minDelta, confidence: settings.confidence, confirmRepeats: settings.confirmRepeats });
}

/** The config file, relative to the project folder, when it lives there (it always does: the project folder is its folder). */
function configGlob(opened: OpenedStudy): string[] {
  const relativePath = relative(dirname(opened.configPath), opened.configPath);
  return relativePath === basename(opened.configPath) ? [relativePath] : [];
}

/** Holdout data in git would be readable by every trial through the repository's history. */
async function refuseTrackedHoldoutData(opened: OpenedStudy, paths: readonly string[]): Promise<void> {
  const issues = [];
  for (const path of paths) {
    if (!existsSync(path)) {
      issues.push({ path: 'research.holdout_data', message: `${path} does not exist` });
      continue;
    }
    const inside = relative(opened.repo.root, path);
    if (inside.startsWith('..') || isAbsolute(inside)) continue;
    const tracked = await gitText(['ls-files', '--', inside === '' ? '.' : inside], opened.repo.root);
    if (tracked !== '') {
      issues.push({
        path: 'research.holdout_data',
        message: `${inside} is tracked by git, so every trial can read it from the repository's history: move it out of the repository, or untrack it (git rm --cached -r ${inside}) and ignore it`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, opened.configPath);
}
