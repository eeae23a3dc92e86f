/**
 * Reads metrics out of a trial's output text.
 *
 * Default format, one per line: `METRIC <name>=<number>` (names match [A-Za-z_][\w.-]*;
 * the last value of a name wins). A user pattern (`research.metric.pattern`) instead picks
 * the primary metric with its first capture group; METRIC lines are still collected.
 */
import { ConfigError } from '../core/errors.ts';

/** Metrics found in one output. */
export interface ParsedMetrics {
  /** Every metric by name (last value wins). With a pattern, the primary metric is also stored under `name`. */
  metrics: Record<string, number>;
  /** The metric the study optimizes; null when absent or its last value was not a number. May be NaN or ±Infinity. */
  primary: number | null;
  /** Human-readable reasons a value is missing or was rejected, with line numbers. */
  problems: string[];
}

/** Which metric is primary and, optionally, how to find it. */
export interface MetricParseOptions {
  /** Name of the primary metric, e.g. 'val_bpb'. */
  name: string;
  /** A JS regex source applied to each line; its first capture group is the primary value. */
  pattern?: string;
}

const METRIC_NAME = /^[A-Za-z_][\w.-]*$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_A_NUMBER = /^[+-]?nan$/i; // C's printf writes "-nan"
const INFINITE = /^([+-]?)inf(?:inity)?$/i;
const MAX_PROBLEMS = 20;
const QUOTE_CHARS = 120;

/**
 * Parses metrics from `output`. An unparseable value is reported in `problems` and, because
 * the last value wins, erases an earlier value of the same metric rather than leaving a stale
 * one standing. `nan`/`inf` (any case, with sign) parse to NaN/±Infinity so the caller can treat
 * the trial as crashed.
 *
 * @example
 * parseMetrics('METRIC val_loss=2.5\nMETRIC tokens_per_s=1200\n', { name: 'val_loss' });
 * // { metrics: { val_loss: 2.5, tokens_per_s: 1200 }, primary: 2.5, problems: [] }
 * parseMetrics('step 10\nval_bpb: 0.997\n', { name: 'val_bpb', pattern: '^val_bpb:\\s*(\\S+)' }).primary; // 0.997
 */
export function parseMetrics(output: string, options: MetricParseOptions): ParsedMetrics {
  const pattern = options.pattern === undefined ? undefined : compilePattern(options.pattern);
  const metrics = new Map<string, number | null>();
  const problems: string[] = [];
  let patternValue: number | null | undefined; // undefined: no line matched
  let dropped = 0;
  const report = (message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(message);
    else dropped += 1;
  };

  const lines = output.split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const lineNumber = index + 1;
    if (line.startsWith('METRIC ') || line.startsWith('METRIC\t')) {
      const body = line.slice('METRIC'.length).trim();
      const equals = body.indexOf('=');
      const name = equals > 0 ? body.slice(0, equals).trim() : '';
      if (!METRIC_NAME.test(name)) {
        report(`line ${lineNumber}: malformed METRIC line ${quote(line)}; expected METRIC <name>=<number> with a name like val_loss`);
      } else {
        const valueText = body.slice(equals + 1).trim();
        const value = parseMetricNumber(valueText);
        if (value === null) report(`line ${lineNumber}: metric ${name} has a value that is not a number: ${quote(valueText)}`);
        metrics.set(name, value);
      }
    }
    if (pattern) {
      const match = pattern.exec(line);
      if (match) {
        const captured = match[1];
        const value = captured === undefined ? null : parseMetricNumber(captured.trim());
        if (value === null) {
          report(`line ${lineNumber}: research.metric.pattern matched ${quote(line)} but captured ${captured === undefined ? 'nothing' : quote(captured)}, which is not a number`);
        }
        patternValue = value;
      }
    }
  }
  if (dropped > 0) problems.push(`... and ${dropped} more problem${dropped === 1 ? '' : 's'}`);

  let primary: number | null;
  if (pattern) {
    if (patternValue === undefined) problems.push(`no line matched research.metric.pattern ${pattern.source} for metric ${options.name}`);
    primary = patternValue ?? null;
    if (patternValue !== undefined) metrics.set(options.name, patternValue);
  } else {
    const value = metrics.get(options.name);
    if (value === undefined) problems.push(`no "METRIC ${options.name}=<number>" line in the output`);
    primary = value ?? null;
  }

  const numbers: Record<string, number> = {};
  for (const [name, value] of metrics) if (value !== null) numbers[name] = value;
  return { metrics: numbers, primary, problems };
}

/**
 * Parses one metric value: a decimal number (with optional exponent), or nan/inf/infinity in any
 * case with an optional sign. Returns null for anything else (hex, empty, "tensor(0.5)").
 *
 * @example
 * parseMetricNumber('-inf'); // -Infinity
 * parseMetricNumber('1e-3'); // 0.001
 */
export function parseMetricNumber(text: string): number | null {
  if (DECIMAL.test(text)) return Number(text);
  if (NOT_A_NUMBER.test(text)) return Number.NaN;
  const infinite = INFINITE.exec(text);
  if (infinite) return infinite[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return null;
}

/**
 * Compiles a user's metric pattern, rejecting invalid regexes and regexes without a capture group
 * with a ConfigError (code 'config_invalid') at `research.metric.pattern`.
 *
 * @example
 * compilePattern('^val_bpb:\\s*(\\S+)'); // /^val_bpb:\s*(\S+)/
 * compilePattern('val_bpb');              // throws: needs a capture group
 */
export function compilePattern(pattern: string): RegExp {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([
      { path: 'research.metric.pattern', message: `${JSON.stringify(pattern)} is not a valid JavaScript regular expression (${reason})` },
    ]);
  }
  // An empty alternative always matches, so the match array's length reveals the group count.
  const groups = new RegExp(`${pattern}|`).exec('')!.length - 1;
  if (groups < 1) {
    throw new ConfigError([
      {
        path: 'research.metric.pattern',
        message: `${JSON.stringify(pattern)} has no capture group; wrap the number in parentheses, e.g. "^val_bpb:\\s*(\\S+)"`,
      },
    ]);
  }
  return regex;
}

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text);
}
