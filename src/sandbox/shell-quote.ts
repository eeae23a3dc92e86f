/**
 * One argument for /bin/sh, single-quoted so nothing in it is expanded.
 *
 * @example
 * shellQuote("it's"); // 'it'\''s'
 */
export function shellQuote(argument: string): string {
  if (argument.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** A command line of quoted arguments. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
