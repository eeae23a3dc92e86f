import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { evolveCommand } from '../../src/cli/commands/evolve.ts';
import { statusCommand } from '../../src/cli/commands/status.ts';
import { evolveStatus } from '../../src/evolve/evolve-status.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { triageLines, triageModel } from '../helpers/triage-task.ts';
import { LoopbackModelServer, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { sqlRow } from '../helpers/ledger-sql.ts';


let server: LoopbackModelServer;
let dir: string;
beforeAll(async () => {
  server = await LoopbackModelServer.start(triageModel);
  dir = mkdtempSync(join(tmpdir(), 'strata-evolve-cli-'));
  const lines = triageLines;
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'prompts'));
  writeFileSync(join(dir, 'data', 'train.jsonl'), lines('t', 12));
  writeFileSync(join(dir, 'data', 'val.jsonl'), lines('v', 6));
  writeFileSync(join(dir, 'data', 'test.jsonl'), lines('x', 6));
  writeFileSync(join(dir, 'prompts', 'system.txt'), 'Classify the ticket as billing, bug or account.\n');
  const model = (name: string) => `{model: "openai-compatible:${name}", base_url: "${server.url}", prices: {input_per_mtok: 1, output_per_mtok: 4}}`;
  writeFileSync(
    join(dir, 'strata.yaml'),
    `name: triage
evolve:
  seed: {system_prompt: prompts/system.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl, test: data/test.jsonl}
  task_model: ${model('task')}
  reflection_model: ${model('reflect')}
  metric: {kind: exact}
  budget: {metric_calls: 60, usd: 1}
`,
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, text: () => text };
}

describe('strata evolve', () => {
  it('runs the config end to end over HTTP, prints progress, and writes the best components', async () => {
    const { out, text } = capture();
    const code = await evolveCommand({ config: 'strata.yaml', cwd: dir, out });
    expect(code).toBe(0);
    expect(text()).toMatch(/the metric-call budget buys \d+–\d+ proposals/);
    expect(text()).toMatch(/seed: val mean 0\.000/);
    expect(text()).toMatch(/it +1 +accepted #1 ← #0/);
    const best = readFileSync(join(dir, '.strata', 'triage', 'best', 'system_prompt.txt'), 'utf8');
    expect(best).toMatch(/-> (billing|bug|account)/);
    // One cheap check call per model, then task and reflection calls, all in the ledger.
    const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
    const roles = ledger.llm.spendByRole(ledger.studyByName('triage')!.id);
    expect(roles.map((r) => r.role)).toEqual(['check', 'reflection', 'task']);
    ledger.close();
  });

  it('resumes the finished study with a bigger budget, and status summarizes it', async () => {
    const yaml = readFileSync(join(dir, 'strata.yaml'), 'utf8').replace('metric_calls: 60', 'metric_calls: 120');
    writeFileSync(join(dir, 'strata.yaml'), yaml);
    const { out, text } = capture();
    expect(await evolveCommand({ config: 'strata.yaml', cwd: dir, out, json: true })).toBe(0);
    const summary = JSON.parse(text()) as { metric_calls: number; best: { val_mean: number }; seed_val_mean: number; test: { best: number } };
    expect(summary.metric_calls).toBeGreaterThan(60);
    expect(summary.metric_calls).toBeLessThanOrEqual(120);
    expect(summary.best.val_mean).toBeGreaterThan(summary.seed_val_mean);
    expect(summary.test.best).toBeGreaterThan(0);

    const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
    const status = evolveStatus(ledger, ledger.studyByName('triage')!.id, { perExample: true });
    expect(status.study.state).toBe('done');
    expect(status.candidates[0]).toMatchObject({ idx: 0, parents: [], origin: 'seed' });
    expect(Object.keys(status.candidates[0]!.scores!)).toHaveLength(6);
    expect(status.candidates.length).toBe(1 + status.proposals.accepted + status.proposals.mergeAccepted);
    expect(status.metric_calls).toBe(summary.metric_calls);
    expect(status.spend.usd).toBeGreaterThan(0);
    ledger.close();

    // `strata status` finds the evolve study (in a repository, where the ledger lives at its root).
    execFileSync('git', ['init', '-q'], { cwd: dir });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir });
    const plain = capture();
    expect(await statusCommand({ config: 'strata.yaml', cwd: dir, out: plain.out })).toBe(0);
    expect(plain.text()).toMatch(/triage {2}evolve · done/);
    expect(plain.text()).toMatch(/best #\d+: val/);
  });

  it('fails before any evaluation when the task model is unknown to the endpoint', async () => {
    const other = mkdtempSync(join(tmpdir(), 'strata-evolve-cli-bad-'));
    const bad = await LoopbackModelServer.start(() => ({ status: 404, error: 'The model `nope` does not exist' }));
    try {
      writeFileSync(join(other, 'seed.txt'), 'x');
      writeFileSync(join(other, 'd.jsonl'), '{"input": "a", "answer": "b"}\n');
      writeFileSync(
        join(other, 'strata.yaml'),
        `name: bad\nevolve:\n  seed: {p: seed.txt}\n  data: {train: d.jsonl, val: d.jsonl}\n  task_model: {model: "openai-compatible:nope", base_url: "${bad.url}"}\n  reflection_model: {model: "openai-compatible:nope", base_url: "${bad.url}"}\n  metric: {kind: exact}\n  budget: {metric_calls: 10}\n`,
      );
      await expect(evolveCommand({ config: 'strata.yaml', cwd: other, out: new PassThrough() })).rejects.toThrow(/does not know this model/);
      expect(sqlRow(join(other, '.strata', 'ledger.db'), 'SELECT COUNT(*) AS n FROM evaluations')).toEqual({ n: 0 });
    } finally {
      await bad.close();
      rmSync(other, { recursive: true, force: true });
    }
  });
});
