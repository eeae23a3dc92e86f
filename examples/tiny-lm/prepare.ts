/**
 * The protected harness of the tiny-lm example: data, vocabulary, splits, the
 * time budget and the metric. A research loop may edit train.ts but never this
 * file, so every trial is scored on the same bytes by the same rule.
 *
 * Layout of data/corpus.txt (fixed byte offsets, never shuffled):
 *   [0, 85%)    train — the only tokens loadDataset() hands out
 *   [85%, 95%)  val   — evaluateBpb(predictor, 'val'), the study's metric
 *   [95%, 100%) test  — evaluateBpb(predictor, 'test'), kept for a final check
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the corpus lives, next to this file so the trainer works from any directory. */
export const CORPUS_PATH = join(import.meta.dirname, 'data', 'corpus.txt');

/** The longest context a predictor may ask for; the evaluation windows are built from it. */
export const MAX_CONTEXT = 64;

/**
 * How many bytes of a split are scored: always the same first bytes. The cap
 * keeps evaluation near 1 s on one core for the largest model in strata.yaml's
 * search space (hidden 256, context 12, embed 24).
 */
export const EVAL_BYTES = 8192;

/** Training time when neither TRAIN_SECONDS nor STRATA_BUDGET_S is set: with start-up and evaluation a run fits 20 s. */
export const DEFAULT_TRAIN_SECONDS = 12;

const TRAIN_END = 0.85;
const VAL_END = 0.95;

/** Below this a probability counts as this (about 100 bits), so one zero cannot make the metric infinite. */
const PROBABILITY_FLOOR = 1e-30;

/** A misuse of the harness (bad TRAIN_SECONDS, a predictor breaking its contract); the message says what to fix. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** Which held-out split to score. */
export type SplitName = 'val' | 'test';

/** What training code may see: the vocabulary and the training tokens, nothing held out. */
export interface Dataset {
  /** Number of distinct byte values in the corpus; token ids are 0..vocabSize-1. */
  readonly vocabSize: number;
  /** Token id → byte value, for decoding samples. */
  readonly bytes: Uint8Array;
  /** The training split as token ids. */
  readonly train: Uint8Array;
}

/**
 * A model as the harness sees it. For each of `count` windows (`contextLength`
 * token ids each, oldest first, row after row in `windows`), write the
 * probability of every next token into `probabilities` (row `i` at
 * `i * vocabSize`). Rows must sum to 1.
 */
export interface Predictor {
  readonly contextLength: number;
  predict(windows: Uint8Array, count: number, probabilities: Float32Array): void;
}

interface Corpus {
  vocabSize: number;
  bytes: Uint8Array;
  /** The whole corpus as token ids. */
  tokens: Uint8Array;
  trainEnd: number;
  valEnd: number;
}

let cached: Corpus | undefined;

function loadCorpus(): Corpus {
  if (cached) return cached;
  const raw = readFileSync(CORPUS_PATH);
  if (raw.length < 10_000) {
    throw new HarnessError(`${CORPUS_PATH} has only ${raw.length} bytes; regenerate it with \`node make-corpus.ts\``);
  }
  const seen = new Uint8Array(256);
  for (const byte of raw) seen[byte] = 1;
  const idOf = new Int16Array(256).fill(-1);
  const bytes: number[] = [];
  for (let value = 0; value < 256; value++) {
    if (seen[value]) {
      idOf[value] = bytes.length;
      bytes.push(value);
    }
  }
  const tokens = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) tokens[i] = idOf[raw[i]!]!;
  cached = {
    vocabSize: bytes.length,
    bytes: Uint8Array.from(bytes),
    tokens,
    trainEnd: Math.floor(raw.length * TRAIN_END),
    valEnd: Math.floor(raw.length * VAL_END),
  };
  return cached;
}

/**
 * The vocabulary and the training tokens (a copy, so training code cannot
 * reach the held-out bytes through it).
 *
 * @example
 * const { vocabSize, train } = loadDataset();
 */
export function loadDataset(): Dataset {
  const corpus = loadCorpus();
  return { vocabSize: corpus.vocabSize, bytes: corpus.bytes.slice(), train: corpus.tokens.slice(0, corpus.trainEnd) };
}

/**
 * Bits per byte of `predictor` on the first EVAL_BYTES bytes of a held-out
 * split: the mean of -log2 p(actual next byte). Windows may reach back before
 * the split's start (that is just earlier text). Returns NaN when the model
 * produced NaN, so the trainer can report a diverged run; throws when the rows
 * are not probability distributions.
 *
 * @example
 * const bpb = evaluateBpb({ contextLength: 8, predict: (w, n, p) => model.predict(w, n, p) }, 'val');
 */
export function evaluateBpb(predictor: Predictor, split: SplitName = 'val'): number {
  const corpus = loadCorpus();
  const context = predictor.contextLength;
  if (!Number.isInteger(context) || context < 1 || context > MAX_CONTEXT) {
    throw new HarnessError(`predictor.contextLength must be an integer from 1 to ${MAX_CONTEXT}, got ${context}`);
  }
  const start = split === 'val' ? corpus.trainEnd : corpus.valEnd;
  const end = Math.min(split === 'val' ? corpus.valEnd : corpus.tokens.length, start + EVAL_BYTES);
  const vocab = corpus.vocabSize;
  const chunk = 256;
  const windows = new Uint8Array(chunk * context);
  const probabilities = new Float32Array(chunk * vocab);
  let bits = 0;
  for (let first = start; first < end; first += chunk) {
    const count = Math.min(chunk, end - first);
    for (let row = 0; row < count; row++) {
      const target = first + row;
      windows.set(corpus.tokens.subarray(target - context, target), row * context);
    }
    probabilities.fill(Number.NaN);
    predictor.predict(windows, count, probabilities);
    for (let row = 0; row < count; row++) {
      const offset = row * vocab;
      let sum = 0;
      for (let token = 0; token < vocab; token++) sum += probabilities[offset + token]!;
      if (Number.isNaN(sum)) return Number.NaN;
      if (Math.abs(sum - 1) > 1e-3) {
        throw new HarnessError(`predict() wrote a row summing to ${sum} at position ${first + row}; each row must be a probability distribution (apply softmax)`);
      }
      const p = probabilities[offset + corpus.tokens[first + row]!]!;
      bits -= Math.log2(Math.max(p, PROBABILITY_FLOOR));
    }
  }
  return bits / (end - start);
}

/**
 * Without TRAIN_SECONDS, the share of the trial budget the loop passes in
 * STRATA_BUDGET_S that goes to training (12 s of a 20 s budget); the rest
 * covers start-up, the wall-clock cap's slack and evaluation. This lets a
 * study's shorter screening budgets (research.fidelity) shorten training too.
 */
export const TRAIN_SHARE_OF_BUDGET = 0.6;

/**
 * Training seconds for this run: TRAIN_SECONDS if set, else
 * TRAIN_SHARE_OF_BUDGET of STRATA_BUDGET_S if set, else
 * DEFAULT_TRAIN_SECONDS. The harness owns this so a trainer cannot buy itself
 * more time than its rivals.
 *
 * @example
 * const clock = startTrainingClock(trainingSeconds());
 */
export function trainingSeconds(env: NodeJS.ProcessEnv = process.env): number {
  if (env.TRAIN_SECONDS) return positiveSeconds('TRAIN_SECONDS', env.TRAIN_SECONDS);
  if (env.STRATA_BUDGET_S) return positiveSeconds('STRATA_BUDGET_S', env.STRATA_BUDGET_S) * TRAIN_SHARE_OF_BUDGET;
  return DEFAULT_TRAIN_SECONDS;
}

function positiveSeconds(name: string, raw: string): number {
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new HarnessError(`${name} must be a number of seconds in (0, 3600], got "${raw}"`);
  }
  return seconds;
}

/**
 * The wall-clock cap, as a multiple of the training seconds: on a crowded
 * machine training stops here even if it has not had its CPU time, so a
 * trial still ends inside strata.yaml's 20 s budget.
 */
export const WALL_CAP_FACTOR = 1.25;

/** A running training budget; see startTrainingClock. */
export interface TrainingClock {
  readonly seconds: number;
  /** CPU seconds this process has used since the clock started. */
  cpuSeconds(): number;
  /** Wall-clock seconds since the clock started. */
  wallSeconds(): number;
  /** Fraction of the budget used, in [0, 1]; 1 means stop. Use it for schedules and the stop test. */
  progress(): number;
}

/**
 * Starts the training clock. The budget is CPU time of this process (user +
 * system), not wall time: on a shared machine a wall-clock budget buys a
 * different number of steps each run (we saw 10k to 16k for one setting),
 * while CPU time buys nearly the same. Training also stops at WALL_CAP_FACTOR
 * times the budget in wall time. Start the clock after building the model;
 * evaluation is not counted.
 *
 * @example
 * const clock = startTrainingClock(trainingSeconds());
 * while (clock.progress() < 1) step();
 */
export function startTrainingClock(seconds: number): TrainingClock {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const cpuSeconds = () => {
    const used = process.cpuUsage(cpuStart);
    return (used.user + used.system) / 1e6;
  };
  const wallSeconds = () => (performance.now() - wallStart) / 1000;
  return {
    seconds,
    cpuSeconds,
    wallSeconds,
    progress: () => Math.min(1, Math.max(cpuSeconds() / seconds, wallSeconds() / (seconds * WALL_CAP_FACTOR))),
  };
}
