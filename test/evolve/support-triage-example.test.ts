import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { evolveCommand } from '../../src/cli/commands/evolve.ts';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';

const example = join(import.meta.dirname, '..', '..', 'examples', 'support-triage');
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('examples/support-triage', () => {
  it('is a valid config with the models the README prices', () => {
    const config = parseConfig(readFileSync(join(example, 'strata.yaml'), 'utf8'), 'strata.yaml');
    expect(config.evolve).toMatchObject({ taskModel: { name: 'openai:gpt-4.1-mini' }, reflectionModel: { name: 'anthropic:claude-sonnet-4-5' }, budget: { metricCalls: 600, usd: 2 } });
  });

  it('runs end to end when its models are pointed at a loopback server', async () => {
    // The stand-in task model knows one house rule once the prompt states it; the reflector states it when feedback mentions it.
    const server = await LoopbackModelServer.start((request) => {
      if (request.lastUserText.includes('improving one part of the instructions')) {
        const current = /```\n([\s\S]*?)\n```/.exec(request.lastUserText)?.[1] ?? '';
        return { text: `\`\`\`\n${current}\nCancelling or downgrading a plan is handled by billing.\n\`\`\`` };
      }
      const rule = /cancel|downgrad|renewal/i.test(request.lastUserText) && request.system.includes('handled by billing');
      return { text: rule ? 'billing' : 'bug' };
    });
    const dir = mkdtempSync(join(tmpdir(), 'strata-support-triage-'));
    dirs.push(dir);
    try {
      cpSync(example, dir, { recursive: true, filter: (path) => !path.includes('.strata') });
      const yaml = parse(readFileSync(join(dir, 'strata.yaml'), 'utf8')) as { evolve: Record<string, unknown> };
      const loop = (name: string) => ({ model: `openai-compatible:${name}`, base_url: server.url, prices: { input_per_mtok: 0.4, output_per_mtok: 1.6 } });
      yaml.evolve.task_model = loop('task');
      yaml.evolve.reflection_model = loop('reflect');
      yaml.evolve.budget = { metric_calls: 120, usd: 2 };
      writeFileSync(join(dir, 'strata.yaml'), stringify(yaml));
      const out = new PassThrough();
      expect(await evolveCommand({ config: 'strata.yaml', cwd: dir, out, json: true })).toBe(0);
      const summary = JSON.parse(String(out.read())) as { best: { val_mean: number }; seed_val_mean: number; metric_calls: number };
      expect(summary.metric_calls).toBeLessThanOrEqual(120);
      expect(summary.best.val_mean).toBeGreaterThanOrEqual(summary.seed_val_mean);
      expect(readFileSync(join(dir, '.strata', 'support-triage', 'best', 'system_prompt.txt'), 'utf8')).toMatch(/Classify the ticket/);
    } finally {
      await server.close();
    }
  });
});
