import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimize } from '../../src/evolve/optimize.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { sqlRow, sqlRows } from '../helpers/ledger-sql.ts';
import { outcome, resumeOptions } from './resume-options.ts';
import { toyEvaluator, toyReflection } from './toy-task.ts';

let server: LoopbackModelServer;
let dir: string;
let reference: ReturnType<typeof outcome>;

beforeAll(async () => {
  server = await LoopbackModelServer.start(toyReflection(2));
  dir = mkdtempSync(join(tmpdir(), 'strata-evolve-resume-'));
  reference = outcome(await optimize(resumeOptions(server.url)));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('exact resume', () => {
  it('the reference run merges and stops on its budget', () => {
    expect(reference.proposals.mergeAccepted + reference.proposals.mergeRejected).toBeGreaterThan(0);
    expect(reference.iterations).toBeGreaterThan(5);
  });

  it('a run stopped mid-iteration (Ctrl-C) resumes to the identical result without re-evaluating anything', async () => {
    const ledgerPath = join(dir, 'abort.db');
    const controller = new AbortController();
    const first = toyEvaluator();
    let calls = 0;
    const stopped = await optimize({
      ...resumeOptions(server.url),
      ledger: ledgerPath,
      signal: controller.signal,
      evaluate: async (candidate, example, context) => {
        if (++calls === 57) controller.abort();
        return first.evaluate(candidate, example, context);
      },
    });
    expect(stopped.stopReason).toBe('interrupted');
    const recorded = new Set(sqlRows(ledgerPath, 'SELECT cache_key FROM evaluations').map((row) => String(row.cache_key)));

    const second = toyEvaluator();
    const resumed = await optimize({ ...resumeOptions(server.url), ledger: ledgerPath, evaluate: second.evaluate });
    expect(resumed.resumed).toBe(true);
    expect(outcome(resumed)).toEqual(reference);
    const after = sqlRow(ledgerPath, 'SELECT COUNT(*) AS n FROM evaluations') as { n: number };
    // Every evaluation the resumed run made was new: none of the recorded ones was repeated.
    expect(recorded.size + second.calls.length).toBe(Number(after.n));
  });

  it('a killed process (SIGKILL) resumes to the identical result', async () => {
    const ledgerPath = join(dir, 'kill.db');
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'evolve-child.ts'), ledgerPath], {
      env: { ...process.env, LOOPBACK_URL: server.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/iteration 4\n/.test(output)) {
          child.kill('SIGKILL');
          resolve();
        }
        if (output.includes('finished')) reject(new Error('the child finished before it could be killed'));
      });
      child.on('error', reject);
    });
    await new Promise((resolve) => child.on('close', resolve));
    const resumed = await optimize({ ...resumeOptions(server.url), ledger: ledgerPath });
    expect(resumed.resumed).toBe(true);
    expect(outcome(resumed)).toEqual(reference);
  });
});
