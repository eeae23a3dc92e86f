import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../../core/errors.ts';

/** One line of a dataset file: `input` and `answer`, optional `feedback` (domain facts for the reflector) and `id`. */
export interface DatasetExample {
  id?: string | number;
  input: unknown;
  answer?: unknown;
  feedback?: string;
  [field: string]: unknown;
}

/**
 * Read a JSONL dataset; every bad line is reported at once (config path and line number).
 *
 * @example
 * const train = loadJsonl('/abs/data/train.jsonl', 'evolve.data.train');
 */
export function loadJsonl(path: string, configPath: string): DatasetExample[] {
  let text: string;
  try {
    // A byte order mark (editors on Windows write one) is not part of the first line's JSON.
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ConfigError([{ path: configPath, message: `cannot read ${path}: ${(error as Error).message}` }]);
  }
  const issues: ConfigIssue[] = [];
  const examples: DatasetExample[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      issues.push({ path: configPath, message: `${path} line ${index + 1}: not JSON (${(error as Error).message})` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !('input' in value)) {
      issues.push({ path: configPath, message: `${path} line ${index + 1}: expected an object with an "input" field` });
      return;
    }
    examples.push(value as DatasetExample);
  });
  if (examples.length === 0 && issues.length === 0) issues.push({ path: configPath, message: `${path} has no examples` });
  if (issues.length > 0) throw new ConfigError(issues.slice(0, 20));
  return examples;
}
