/**
 * The editable trainer of the tiny-lm example: a character-level MLP language
 * model (embeddings of the last `context` bytes, concatenated, one or two tanh
 * layers, softmax over the vocabulary), forward and backward written by hand
 * on Float32Array, trained with Adam for a fixed time budget (CPU seconds, with
 * a wall-clock cap: see startTrainingClock in prepare.ts), then scored by the
 * protected harness.
 *
 * Run: `node train.ts` (Node 22+). Settings come from strata.params.json in the
 * current directory when it exists (see README.md), the seed from STRATA_SEED,
 * the training time from TRAIN_SECONDS (read by the harness).
 *
 * Output: a config line, progress every ~2 s, then exactly one `val_bpb: <x>`
 * line (`nan` when training diverged) and `METRIC <name>=<n>` lines:
 * train_seconds (CPU), train_wall_seconds, steps, eval_seconds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { evaluateBpb, HarnessError, loadDataset, startTrainingClock, trainingSeconds, MAX_CONTEXT } from './prepare.ts';
import type { Dataset, Predictor } from './prepare.ts';

/** The tunable settings; the names are the keys of strata.params.json. */
interface Hyperparameters {
  /** Adam learning rate. */
  lr: number;
  /** Units in each hidden layer. */
  hidden: number;
  /** How many previous bytes the model sees. */
  context: number;
  /** Size of each byte's embedding vector. */
  embed: number;
  /** Multiplies the usual 1/sqrt(fan-in) initial weight scale (embeddings: std = init_scale). */
  init_scale: number;
  /** Examples per Adam step. */
  batch: number;
  /** Hidden layers, 1 or 2. */
  layers: number;
}

/** Deliberately mediocre defaults (small lr, narrow and short-sighted): the baseline a search should beat. */
const DEFAULTS: Hyperparameters = { lr: 0.0005, hidden: 24, context: 3, embed: 8, init_scale: 1, batch: 32, layers: 1 };

interface Rule {
  integer: boolean;
  low: number;
  high: number;
}

/** Accepted ranges; anything outside is an error rather than a silent clamp. */
const RULES: Record<keyof Hyperparameters, Rule> = {
  lr: { integer: false, low: 1e-7, high: 10 },
  hidden: { integer: true, low: 1, high: 2048 },
  context: { integer: true, low: 1, high: MAX_CONTEXT },
  embed: { integer: true, low: 1, high: 256 },
  init_scale: { integer: false, low: 1e-4, high: 100 },
  batch: { integer: true, low: 1, high: 4096 },
  layers: { integer: true, low: 1, high: 2 },
};

const PARAMS_FILE = 'strata.params.json';

/** A settings problem the user must fix; reported as one line, without a stack. */
class SettingsError extends Error {}

function isKnownKey(key: string): key is keyof Hyperparameters {
  return Object.hasOwn(RULES, key);
}

/** Defaults overridden by strata.params.json (if present); every problem is reported at once. */
function readHyperparameters(path: string): Hyperparameters {
  const settings: Hyperparameters = { ...DEFAULTS };
  if (!existsSync(path)) return settings;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SettingsError(`${PARAMS_FILE} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SettingsError(`${PARAMS_FILE} must hold a JSON object like {"lr": 0.003, "hidden": 64}`);
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!isKnownKey(key)) {
      problems.push(`unknown key "${key}" (known: ${Object.keys(RULES).join(', ')})`);
      continue;
    }
    const rule = RULES[key];
    const kind = rule.integer ? 'an integer' : 'a number';
    if (typeof value !== 'number' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value)) || value < rule.low || value > rule.high) {
      problems.push(`"${key}" must be ${kind} from ${rule.low} to ${rule.high}, got ${JSON.stringify(value)}`);
      continue;
    }
    settings[key] = value;
  }
  if (problems.length > 0) throw new SettingsError(`${PARAMS_FILE}: ${problems.join('; ')}`);
  return settings;
}

function readSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new SettingsError(`STRATA_SEED must be an integer, got "${raw}"`);
  return seed;
}

/** mulberry32: a small seeded generator, so runs with the same seed start identically. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/**
 * The MLP. All weights live in one Float32Array (`parameters`) and all
 * gradients in another of the same layout, so Adam is a single loop; the named
 * fields are views into them. Scratch buffers are allocated once, so the
 * training loop allocates nothing.
 */
class Model implements Predictor {
  readonly contextLength: number;
  readonly parameters: Float32Array;
  readonly gradients: Float32Array;
  private readonly vocab: number;
  private readonly embed: number;
  private readonly hidden: number;
  private readonly inputSize: number;
  private readonly twoLayers: boolean;
  // Parameter views.
  private readonly embedding: Float32Array;
  private readonly w1: Float32Array;
  private readonly b1: Float32Array;
  private readonly w2: Float32Array;
  private readonly b2: Float32Array;
  private readonly wOut: Float32Array;
  private readonly bOut: Float32Array;
  // Gradient views (same layout).
  private readonly gEmbedding: Float32Array;
  private readonly gW1: Float32Array;
  private readonly gB1: Float32Array;
  private readonly gW2: Float32Array;
  private readonly gB2: Float32Array;
  private readonly gWOut: Float32Array;
  private readonly gBOut: Float32Array;
  // Scratch for one example.
  private readonly input: Float32Array;
  private readonly hidden1: Float32Array;
  private readonly hidden2: Float32Array;
  private readonly probabilities: Float32Array;
  private readonly dHiddenA: Float32Array;
  private readonly dHiddenB: Float32Array;
  private readonly dInput: Float32Array;

  constructor(vocab: number, settings: Hyperparameters, random: Random) {
    this.vocab = vocab;
    this.embed = settings.embed;
    this.hidden = settings.hidden;
    this.contextLength = settings.context;
    this.inputSize = settings.context * settings.embed;
    this.twoLayers = settings.layers === 2;
    const H = this.hidden;
    const sizes = [
      vocab * this.embed,
      this.inputSize * H,
      H,
      this.twoLayers ? H * H : 0,
      this.twoLayers ? H : 0,
      H * vocab,
      vocab,
    ];
    const total = sizes.reduce((a, b) => a + b, 0);
    this.parameters = new Float32Array(total);
    this.gradients = new Float32Array(total);
    const views: [Float32Array, Float32Array][] = [];
    let offset = 0;
    for (const size of sizes) {
      views.push([this.parameters.subarray(offset, offset + size), this.gradients.subarray(offset, offset + size)]);
      offset += size;
    }
    const view = (index: number): [Float32Array, Float32Array] => views[index]!;
    [this.embedding, this.gEmbedding] = view(0);
    [this.w1, this.gW1] = view(1);
    [this.b1, this.gB1] = view(2);
    [this.w2, this.gW2] = view(3);
    [this.b2, this.gB2] = view(4);
    [this.wOut, this.gWOut] = view(5);
    [this.bOut, this.gBOut] = view(6);

    const scale = settings.init_scale;
    fillNormal(this.embedding, scale, random);
    fillNormal(this.w1, scale / Math.sqrt(this.inputSize), random);
    fillNormal(this.w2, scale / Math.sqrt(H), random);
    fillNormal(this.wOut, scale / Math.sqrt(H), random);

    this.input = new Float32Array(this.inputSize);
    this.hidden1 = new Float32Array(H);
    this.hidden2 = new Float32Array(H);
    this.probabilities = new Float32Array(vocab);
    this.dHiddenA = new Float32Array(H);
    this.dHiddenB = new Float32Array(H);
    this.dInput = new Float32Array(this.inputSize);
  }

  /** Forward pass for the window at `windows[start..start+context)`; leaves softmax in this.probabilities. */
  private forward(windows: Uint8Array, start: number): void {
    const { embed, hidden: H, vocab: V, inputSize, input, embedding } = this;
    for (let c = 0; c < this.contextLength; c++) {
      const row = windows[start + c]! * embed;
      const at = c * embed;
      for (let e = 0; e < embed; e++) input[at + e] = embedding[row + e]!;
    }
    denseForward(input, inputSize, this.w1, this.b1, this.hidden1, H);
    applyTanh(this.hidden1);
    const last = this.twoLayers ? this.hidden2 : this.hidden1;
    if (this.twoLayers) {
      denseForward(this.hidden1, H, this.w2, this.b2, this.hidden2, H);
      applyTanh(this.hidden2);
    }
    const p = this.probabilities;
    denseForward(last, H, this.wOut, this.bOut, p, V);
    let max = -Infinity;
    for (let k = 0; k < V; k++) if (p[k]! > max) max = p[k]!;
    let sum = 0;
    for (let k = 0; k < V; k++) {
      const e = Math.exp(p[k]! - max);
      p[k] = e;
      sum += e;
    }
    const inverse = 1 / sum;
    for (let k = 0; k < V; k++) p[k] = p[k]! * inverse;
  }

  /**
   * Adds the gradient of the mean cross-entropy over `count` examples to
   * this.gradients (zero it first) and returns their summed loss in nats.
   */
  accumulate(windows: Uint8Array, targets: Uint8Array, count: number): number {
    const { embed, hidden: H, vocab: V } = this;
    const scale = 1 / count;
    let loss = 0;
    for (let b = 0; b < count; b++) {
      this.forward(windows, b * this.contextLength);
      const p = this.probabilities;
      const target = targets[b]!;
      loss -= Math.log(Math.max(p[target]!, 1e-30));
      // p becomes dLoss/dLogits for this example: softmax minus one-hot, averaged over the batch.
      p[target] = p[target]! - 1;
      for (let k = 0; k < V; k++) p[k] = p[k]! * scale;

      const last = this.twoLayers ? this.hidden2 : this.hidden1;
      const dLast = this.dHiddenA;
      denseBackward(last, H, this.wOut, this.gWOut, this.gBOut, p, V, dLast);
      multiplyTanhDerivative(dLast, last);
      let dFirst = dLast;
      if (this.twoLayers) {
        dFirst = this.dHiddenB;
        denseBackward(this.hidden1, H, this.w2, this.gW2, this.gB2, dLast, H, dFirst);
        multiplyTanhDerivative(dFirst, this.hidden1);
      }
      const dInput = this.dInput;
      denseBackward(this.input, this.inputSize, this.w1, this.gW1, this.gB1, dFirst, H, dInput);

      const gEmbedding = this.gEmbedding;
      const start = b * this.contextLength;
      for (let c = 0; c < this.contextLength; c++) {
        const row = windows[start + c]! * embed;
        const at = c * embed;
        for (let e = 0; e < embed; e++) gEmbedding[row + e] = gEmbedding[row + e]! + dInput[at + e]!;
      }
    }
    return loss;
  }

  /** Predictor for the harness: softmax rows for `count` windows. */
  predict(windows: Uint8Array, count: number, probabilities: Float32Array): void {
    for (let b = 0; b < count; b++) {
      this.forward(windows, b * this.contextLength);
      probabilities.set(this.probabilities, b * this.vocab);
    }
  }
}

function fillNormal(target: Float32Array, std: number, random: Random): void {
  for (let i = 0; i < target.length; i++) target[i] = random.normal() * std;
}

/*
 * The two kernels below take four input rows per pass: V8 does not vectorize,
 * and sharing each load of `output`/`dOut` across four rows roughly doubles
 * throughput over the plain loop.
 */

/** output = bias + input · weights, with weights laid out [in][out] so the inner loop is contiguous. */
function denseForward(input: Float32Array, inSize: number, weights: Float32Array, bias: Float32Array, output: Float32Array, outSize: number): void {
  output.set(bias);
  let i = 0;
  for (; i + 3 < inSize; i += 4) {
    const x0 = input[i]!, x1 = input[i + 1]!, x2 = input[i + 2]!, x3 = input[i + 3]!;
    const r0 = i * outSize, r1 = r0 + outSize, r2 = r1 + outSize, r3 = r2 + outSize;
    for (let j = 0; j < outSize; j++) {
      output[j] = output[j]! + x0 * weights[r0 + j]! + x1 * weights[r1 + j]! + x2 * weights[r2 + j]! + x3 * weights[r3 + j]!;
    }
  }
  for (; i < inSize; i++) {
    const x = input[i]!;
    const row = i * outSize;
    for (let j = 0; j < outSize; j++) output[j] = output[j]! + x * weights[row + j]!;
  }
}

/**
 * Given dLoss/dOutput `dOut` of denseForward, accumulates the weight and bias
 * gradients and writes dLoss/dInput into `dInput`.
 */
function denseBackward(
  input: Float32Array,
  inSize: number,
  weights: Float32Array,
  gWeights: Float32Array,
  gBias: Float32Array,
  dOut: Float32Array,
  outSize: number,
  dInput: Float32Array,
): void {
  for (let j = 0; j < outSize; j++) gBias[j] = gBias[j]! + dOut[j]!;
  let i = 0;
  for (; i + 3 < inSize; i += 4) {
    const x0 = input[i]!, x1 = input[i + 1]!, x2 = input[i + 2]!, x3 = input[i + 3]!;
    const r0 = i * outSize, r1 = r0 + outSize, r2 = r1 + outSize, r3 = r2 + outSize;
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    for (let j = 0; j < outSize; j++) {
      const g = dOut[j]!;
      gWeights[r0 + j] = gWeights[r0 + j]! + x0 * g;
      gWeights[r1 + j] = gWeights[r1 + j]! + x1 * g;
      gWeights[r2 + j] = gWeights[r2 + j]! + x2 * g;
      gWeights[r3 + j] = gWeights[r3 + j]! + x3 * g;
      d0 += weights[r0 + j]! * g;
      d1 += weights[r1 + j]! * g;
      d2 += weights[r2 + j]! * g;
      d3 += weights[r3 + j]! * g;
    }
    dInput[i] = d0;
    dInput[i + 1] = d1;
    dInput[i + 2] = d2;
    dInput[i + 3] = d3;
  }
  for (; i < inSize; i++) {
    const x = input[i]!;
    const row = i * outSize;
    let d = 0;
    for (let j = 0; j < outSize; j++) {
      const g = dOut[j]!;
      gWeights[row + j] = gWeights[row + j]! + x * g;
      d += weights[row + j]! * g;
    }
    dInput[i] = d;
  }
}

function applyTanh(values: Float32Array): void {
  for (let j = 0; j < values.length; j++) values[j] = Math.tanh(values[j]!);
}

/** gradient *= d tanh(z)/dz, written in terms of the activation a = tanh(z). */
function multiplyTanhDerivative(gradient: Float32Array, activation: Float32Array): void {
  for (let j = 0; j < gradient.length; j++) {
    const a = activation[j]!;
    gradient[j] = gradient[j]! * (1 - a * a);
  }
}

/** Adam over one flat parameter array. */
class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  constructor(size: number) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }
  step(parameters: Float32Array, gradients: Float32Array, lr: number): void {
    const beta1 = 0.9;
    const beta2 = 0.999;
    this.t += 1;
    const stepSize = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const { m, v } = this;
    for (let i = 0; i < parameters.length; i++) {
      const g = gradients[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      parameters[i] = parameters[i]! - (stepSize * mi) / (Math.sqrt(vi) + 1e-8);
    }
  }
}

/** Fraction of the budget at the end over which the learning rate decays linearly to zero. */
const WARMDOWN = 0.2;
const PROGRESS_EVERY_SECONDS = 2;

function main(): void {
  const settings = readHyperparameters(resolve(PARAMS_FILE));
  const seed = readSeed(process.env.STRATA_SEED);
  const seconds = trainingSeconds();
  const data: Dataset = loadDataset();
  const random = new Random(seed);
  const model = new Model(data.vocabSize, settings, random);
  const optimizer = new Adam(model.parameters.length);
  const described = Object.entries(settings).map(([key, value]) => `${key}=${value}`).join(' ');
  console.log(`config: ${described} seed=${seed} train_seconds=${seconds} vocab=${data.vocabSize} parameters=${model.parameters.length}`);

  const { context, batch } = settings;
  const windows = new Uint8Array(batch * context);
  const targets = new Uint8Array(batch);
  const train = data.train;
  const positions = train.length - context;

  const clock = startTrainingClock(seconds);
  let step = 0;
  let smoothedBits = Number.NaN;
  let nextReport = PROGRESS_EVERY_SECONDS;
  let diverged = false;
  for (;;) {
    const progress = clock.progress();
    if (progress >= 1) break;
    for (let b = 0; b < batch; b++) {
      const target = context + Math.floor(random.next() * positions);
      windows.set(train.subarray(target - context, target), b * context);
      targets[b] = train[target]!;
    }
    model.gradients.fill(0);
    const bits = model.accumulate(windows, targets, batch) / batch / Math.LN2;
    if (!Number.isFinite(bits)) {
      diverged = true;
      break;
    }
    const lr = settings.lr * Math.min(1, (1 - progress) / WARMDOWN);
    optimizer.step(model.parameters, model.gradients, lr);
    step += 1;
    smoothedBits = Number.isNaN(smoothedBits) ? bits : 0.98 * smoothedBits + 0.02 * bits;
    const wall = clock.wallSeconds();
    if (wall >= nextReport) {
      console.log(`step ${step} train_bits ${smoothedBits.toFixed(4)} lr ${lr.toPrecision(3)} cpu ${clock.cpuSeconds().toFixed(1)}s wall ${wall.toFixed(1)}s`);
      nextReport += PROGRESS_EVERY_SECONDS;
    }
  }
  const trainedCpu = clock.cpuSeconds();
  const trainedWall = clock.wallSeconds();
  if (diverged) console.error(`training diverged at step ${step}: the loss is not finite (try a smaller lr)`);

  const evaluationStarted = performance.now();
  const bpb = diverged ? Number.NaN : evaluateBpb(model, 'val');
  const evaluationSeconds = (performance.now() - evaluationStarted) / 1000;
  console.log(`val_bpb: ${Number.isFinite(bpb) ? bpb.toFixed(6) : 'nan'}`);
  console.log(`METRIC train_seconds=${trainedCpu.toFixed(2)}`);
  console.log(`METRIC train_wall_seconds=${trainedWall.toFixed(2)}`);
  console.log(`METRIC steps=${step}`);
  console.log(`METRIC eval_seconds=${evaluationSeconds.toFixed(2)}`);
}

try {
  main();
} catch (error) {
  if (!(error instanceof SettingsError || error instanceof HarnessError)) throw error;
  console.error(`error: ${error.message}`);
  process.exitCode = 2;
}
