/** Column alignment for a plain-text table. */
export type Align = 'left' | 'right';

/**
 * Render rows as an aligned plain-text table with a header rule.
 *
 * @example
 * renderTable(['id', 'status'], [['0', 'keep']], ['right', 'left']);
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const pad = ' '.repeat(Math.max(0, widths[column]! - width(cell)));
        return align[column] === 'right' ? pad + cell : column === cells.length - 1 ? cell : cell + pad;
      })
      .join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Visible width (ANSI colour codes excluded). */
export function width(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Shorten to `max` visible characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
