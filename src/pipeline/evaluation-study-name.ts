/** Characters of the candidate's content hash in the name of an evaluation study. */
export const EVALUATION_HASH_LENGTH = 10;

/**
 * `<stage study>/<candidate hash>-<example id>`: one research study per
 * (candidate, example) of a research evaluator, so a rerun finds it.
 *
 * @example
 * evaluationStudyName('pipe/explore', '3f2a9c01be', 'seed-1'); // 'pipe/explore/3f2a9c01be-seed-1'
 */
export function evaluationStudyName(stageStudy: string, hash: string, exampleId: string): string {
  return `${stageStudy}/${hash}-${exampleId}`;
}
