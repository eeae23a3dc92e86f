import { createHash } from 'node:crypto';
import { compareSnapshots, type IntegrityViolation } from './compare-snapshots.ts';
import { snapshotFiles, type FileSnapshot } from './file-snapshot.ts';
import { checkoutRoot } from './git-locations.ts';
import { GitControlFiles } from './git-control-files.ts';

/** Result of the check before a run: the snapshot the after-run check compares with. */
export interface BeforeRunCheck {
  snapshot: FileSnapshot;
  violations: IntegrityViolation[];
}

/**
 * Guards a study's protected files (`research.protected` and the config file).
 * The reference is taken from a pristine checkout of the study's base commit
 * when the study starts; every trial is checked twice:
 * - before its run, its checkout must hold the reference's files (content,
 *   type, symlink targets, the executable bit git records);
 * - after its run, nothing protected may differ from before the run, every
 *   permission bit included, and no protected path may appear or vanish;
 *   nor may the repository's git control files (config, hooks, attributes,
 *   the worktree's `.git` pointer), which are put back as they were.
 * Any difference makes the trial `invalid`, and nothing it printed is trusted.
 *
 * @example
 * const guard = await IntegrityGuard.fromCheckout(pristineProjectDir, ['prepare.py', 'data/**', 'strata.yaml']);
 * const before = await guard.checkBeforeRun(trialProjectDir);
 * const after = await guard.checkAfterRun(trialProjectDir, before.snapshot);
 */
/** The git control files read before each run, by the snapshot that run's after-check is given. */
const gitBefore = new WeakMap<FileSnapshot, GitControlFiles>();

export class IntegrityGuard {
  readonly globs: readonly string[];
  readonly reference: FileSnapshot;

  private constructor(globs: readonly string[], reference: FileSnapshot) {
    this.globs = globs;
    this.reference = reference;
  }

  /** Take the reference from a checkout nobody has touched (the project folder inside it). */
  static async fromCheckout(projectDir: string, globs: readonly string[]): Promise<IntegrityGuard> {
    return new IntegrityGuard([...globs], await snapshotFiles(projectDir, globs));
  }

  async checkBeforeRun(projectDir: string): Promise<BeforeRunCheck> {
    const snapshot = await snapshotFiles(projectDir, this.globs);
    const root = checkoutRoot(projectDir);
    const git = root === undefined ? null : GitControlFiles.read(root);
    if (git) gitBefore.set(snapshot, git);
    return { snapshot, violations: compareSnapshots(this.reference, snapshot, 'executable') };
  }

  /** Differences since `before` (checkBeforeRun's snapshot); changed git control files are put back as they were. */
  async checkAfterRun(projectDir: string, before: FileSnapshot): Promise<IntegrityViolation[]> {
    const violations = compareSnapshots(before, await snapshotFiles(projectDir, this.globs), 'all');
    const git = gitBefore.get(before);
    const changed = git?.changes() ?? [];
    // Strata runs git there next (commit, clean, checkout), and so does the user: undo first, report after.
    if (changed.length > 0) git!.restore();
    return [...violations, ...changed.map((violation) => ({ ...violation, detail: `${violation.detail}, put back` }))];
  }

  /** A short digest of the reference, for the ledger and logs. */
  digest(): string {
    const hash = createHash('sha256');
    for (const [path, entry] of this.reference) hash.update(`${path}\0${JSON.stringify(entry)}\n`);
    return hash.digest('hex').slice(0, 16);
  }
}
