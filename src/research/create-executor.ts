import { dirname, join, resolve } from 'node:path';
import type { Executor } from '../core/executor.ts';
import { LocalExecutor } from '../executors/local-executor.ts';
import { SlurmExecutor } from '../executors/slurm/slurm-executor.ts';
import type { OpenedStudy } from './open-study.ts';

/**
 * With `research.executor.shared_dir`, trial worktrees and logs live under
 * `<shared_dir>/<study>/` (a path the submit host and the cluster's nodes
 * both see) instead of the repository's `.strata/`. The ledger stays in the
 * repository.
 *
 * @example
 * const opened = withSharedDir(await openResearchStudy(options));
 */
export function withSharedDir(opened: OpenedStudy): OpenedStudy {
  const shared = opened.research.executor.sharedDir;
  if (shared === undefined) return opened;
  const root = join(resolve(dirname(opened.configPath), shared), opened.study.name);
  return { ...opened, worktreesDir: join(root, 'worktrees'), logsDir: join(root, 'logs') };
}

/**
 * The executor `research.executor.kind` names: local process groups, or SLURM
 * jobs whose scripts and exit records go to `<logs>/slurm/`.
 */
export function createExecutor(opened: OpenedStudy): Executor {
  const { executor } = opened.research;
  if (executor.kind === 'slurm') {
    return new SlurmExecutor({ slurm: executor.slurm, jobDir: join(opened.logsDir, 'slurm'), jobNamePrefix: `strata-${opened.study.name.replaceAll('/', '-')}` });
  }
  return new LocalExecutor();
}
