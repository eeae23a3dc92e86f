/**
 * Runs Optuna's samplers from Node: starts bench/search-vs-optuna.py and answers
 * its questions ("what is the loss of these parameters?") with the benchmark's
 * own functions, so one definition of each function serves both sides.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { activationOrder, type ParamValues, type SearchSpace } from '../src/core/search-space.ts';

const SCRIPT = fileURLToPath(new URL('./search-vs-optuna.py', import.meta.url));

export type OptunaSampler = 'tpe' | 'tpe-mv' | 'random' | 'cmaes';

export interface OptunaRun {
  id: string;
  sampler: OptunaSampler;
  seed: number;
  trials: number;
  space: SearchSpace;
}

/** Where Optuna was found, or why it was not. */
export type OptunaProbe = { python: string; version: string } | { unavailable: string };

/**
 * The first interpreter that imports optuna: `preferred` (from --python or
 * STRATA_OPTUNA_PYTHON) alone when given, else python3 on PATH, then
 * /usr/bin/python3 (Debian's python3-optuna lives there even when another
 * python3 comes first on PATH).
 *
 * @example
 * const probe = probeOptuna(process.env.STRATA_OPTUNA_PYTHON);
 */
export function probeOptuna(preferred?: string): OptunaProbe {
  const candidates = preferred ? [preferred] : ['python3', '/usr/bin/python3'];
  const reasons: string[] = [];
  for (const python of candidates) {
    const result = spawnSync(python, ['-c', 'import optuna, sys; sys.stdout.write(optuna.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (result.error) {
      reasons.push(`${python}: ${result.error.message}`);
      continue;
    }
    if (result.status === 0) return { python, version: result.stdout.trim() };
    reasons.push(`${python}: ${result.stderr.trim().split('\n').pop() ?? `exit ${result.status}`}`);
  }
  return { unavailable: `no Python with Optuna (${reasons.join('; ')}); install it (Debian: apt-get install python3-optuna) or pass --python PATH` };
}

/**
 * One Python process running Optuna studies one after another.
 *
 * @example
 * const bridge = await OptunaBridge.start('/usr/bin/python3');
 * await bridge.run({ id: 'f01', sampler: 'tpe', seed: 0, trials: 30, space }, (params) => loss(params));
 * await bridge.close();
 */
export class OptunaBridge {
  private readonly lines: AsyncIterator<string>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader: Interface;
  private readonly stderr: string[];

  private constructor(child: ChildProcessWithoutNullStreams, reader: Interface, stderr: string[]) {
    this.child = child;
    this.reader = reader;
    this.stderr = stderr;
    this.lines = reader[Symbol.asyncIterator]();
  }

  static async start(python: string): Promise<OptunaBridge> {
    const child = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr.push(chunk);
      if (stderr.length > 50) stderr.shift();
    });
    const bridge = new OptunaBridge(child, createInterface({ input: child.stdout }), stderr);
    const hello = await bridge.next();
    if (hello.type !== 'ready') throw new Error(`Optuna side did not start: ${JSON.stringify(hello)}`);
    return bridge;
  }

  /** Run one study; `evaluate` gets each trial's active parameters and returns the loss Optuna sees. */
  async run(request: OptunaRun, evaluate: (params: ParamValues) => number): Promise<{ seconds: number }> {
    this.send({ type: 'run', ...request, order: activationOrder(request.space) });
    for (;;) {
      const message = await this.next();
      if (message.type === 'ask') {
        this.send({ type: 'tell', loss: evaluate(message.params as ParamValues) });
      } else if (message.type === 'done') {
        return { seconds: message.seconds as number };
      } else {
        throw new Error(`unexpected message from the Optuna side: ${JSON.stringify(message)}`);
      }
    }
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    this.child.stdin.end();
    await exited;
    this.reader.close();
  }

  private send(message: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`the Optuna side exited (code ${this.child.exitCode ?? 'unknown'}): ${this.stderr.join('').trim().slice(-2000)}`);
    return JSON.parse(value) as Record<string, unknown>;
  }
}
