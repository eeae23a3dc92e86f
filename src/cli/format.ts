/** Small formatting helpers shared by terminal output. */

const useColor = (stream: NodeJS.WritableStream): boolean =>
  Boolean((stream as NodeJS.WriteStream).isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

export interface Palette {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function palette(stream: NodeJS.WritableStream): Palette {
  const on = useColor(stream);
  const wrap = (code: number, reset: number) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[${reset}m` : text);
  return { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

/** A metric with enough digits to see small improvements. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(4) : value.toPrecision(6);
}

/** A signed delta; positive means better. */
export function formatDelta(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const text = formatMetric(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `-${text}` : '±0';
}

export function statusColor(status: string, colors: Palette): string {
  switch (status) {
    case 'keep':
      return colors.green(status);
    case 'crash':
    case 'invalid':
      return colors.red(status);
    case 'timeout':
    case 'interrupted':
      return colors.yellow(status);
    case 'discard':
      return colors.dim(status);
    default:
      return status;
  }
}
