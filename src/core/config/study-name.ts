/**
 * What a study may be called. The name becomes the git branch
 * `strata/<name>`, refs `refs/strata/<name>/trials/…` and folders under
 * `.strata/`, so it must be a ref name git accepts (git check-ref-format) and
 * a path every file system can hold.
 */

/** The longest name: parts of refs and paths stay far below the 255-byte file name limit. */
export const STUDY_NAME_MAX_LENGTH = 100;

/** What is allowed, in the words every refusal ends with. */
export const STUDY_NAME_RULE =
  `lowercase letters, digits and . _ -, in parts separated by single "/" (each part starts with a letter or digit and does not end in "." or ".lock"), no "..", at most ${STUDY_NAME_MAX_LENGTH} characters: it names the git branch strata/<name>`;

/** The rule as one regular expression (the JSON Schema's `pattern`): length, no "..", no part ending in "." or ".lock", the parts themselves. */
export const STUDY_NAME_PATTERN = new RegExp(
  `^(?=.{1,${STUDY_NAME_MAX_LENGTH}}$)(?!.*\\.\\.)(?!.*\\.(?:lock)?(?:/|$))[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)*$`,
);

/**
 * Why `name` cannot be a study name, in one line ending with what is allowed;
 * undefined when it can.
 *
 * @example
 * studyNameProblem('a..b'); // '"a..b" contains "..", which git refuses in a branch name; use lowercase letters, …'
 * studyNameProblem('tiny-lm/run-2'); // undefined
 */
export function studyNameProblem(name: string): string | undefined {
  if (STUDY_NAME_PATTERN.test(name)) return undefined;
  const reason = firstReason(name);
  return `${reason}; use ${STUDY_NAME_RULE}`;
}

function firstReason(name: string): string {
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
  if (name.length === 0) return 'the name is empty';
  if (name.length > STUDY_NAME_MAX_LENGTH) return `${shown} has ${name.length} characters; at most ${STUDY_NAME_MAX_LENGTH}`;
  const bad = [...name].find((character) => !/[a-z0-9._/-]/.test(character));
  if (bad !== undefined) return `${JSON.stringify(bad)} is not allowed${/[A-Z]/.test(bad) ? ' (lowercase only)' : ''} in ${shown}`;
  if (name.startsWith('/')) return `${shown} starts with "/"`;
  if (name.endsWith('/')) return `${shown} ends in "/"`;
  if (name.includes('//')) return `${shown} contains "//"`;
  if (name.includes('..')) return `${shown} contains "..", which git refuses in a branch name`;
  for (const part of name.split('/')) {
    if (!/^[a-z0-9]/.test(part)) return `${shown} ${part === name ? '' : `part ${JSON.stringify(part)} `}starts with ${JSON.stringify(part[0])}`;
    if (part.endsWith('.lock')) return `${shown} ${part === name ? '' : `part ${JSON.stringify(part)} `}ends in ".lock", which git refuses (it is how git locks a ref)`;
    if (part.endsWith('.')) return `${shown} ${part === name ? '' : `part ${JSON.stringify(part)} `}ends in ".", which git refuses`;
  }
  return `${shown} is not a valid name`;
}
