/**
 * What a study starting from HEAD does with uncommitted changes in the
 * user's checkout, said as it happens: trials run the committed code (their
 * worktrees come from HEAD), but the config is read from disk, so an edited
 * strata.yaml applies in full though it is not committed.
 *
 * @example
 * uncommittedWarnings(['strata.yaml', 'train.py'], 'strata.yaml', 'a1b2c3d4e5');
 * // ['strata.yaml has uncommitted changes: this study runs with it as it is on disk, …',
 * //  'uncommitted changes to train.py are not part of the study: trials run the code committed at HEAD a1b2c3d4']
 */
export function uncommittedWarnings(dirty: readonly string[], configPath: string, base: string): string[] {
  const warnings: string[] = [];
  const code = dirty.filter((path) => path !== configPath);
  if (code.length < dirty.length) {
    warnings.push(
      `${configPath} has uncommitted changes: this study runs with it as it is on disk, not as committed; commit it so the code and the settings it ran with stay together`,
    );
  }
  if (code.length > 0) {
    warnings.push(
      `uncommitted changes to ${code.slice(0, 5).join(', ')}${code.length > 5 ? `, … (${code.length} files)` : ''} are not part of the study: trials run the code committed at HEAD ${base.slice(0, 8)}`,
    );
  }
  return warnings;
}
