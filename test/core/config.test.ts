import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/core/config/json-schema.ts';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { formatDuration, parseDuration } from '../../src/core/duration.ts';
import { ConfigError } from '../../src/core/errors.ts';

const minimal = `name: t
research:
  editable: [train.py]
  run: python train.py
  budget: 5m
  metric: {name: val_bpb, goal: minimize, pattern: '^val_bpb:\\s*(\\S+)'}
  params: {lr: {type: float, low: 0.001, high: 0.1, log: true}}
`;

function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe('durations', () => {
  it.each([
    ['20s', 20_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    [90, 90_000],
  ] as const)('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['fast', '', '5 minutes', '-3s', '0s'])('rejects %j', (text) => expect(parseDuration(text)).toBeNull());
  it('formats for people', () => {
    expect([formatDuration(850), formatDuration(12_300), formatDuration(245_000), formatDuration(7_980_000)]).toEqual(['850ms', '12.3s', '4m05s', '2h13m']);
  });
});

describe('parseConfig', () => {
  it('normalizes durations and fills defaults', () => {
    const config = parseConfig(minimal);
    expect(config.research).toMatchObject({ budgetMs: 300_000, graceMs: 30_000, protected: [], proposer: 'search', search: { sampler: 'auto' } });
    expect(parseConfig(minimal.replace('5m', '20s')).research!.graceMs).toBe(5000);
  });

  it('reports every problem at once, each with its dot path', () => {
    const text = minimal
      .replace('name: t', 'name: My Study')
      .replace('budget: 5m', 'budget: fast\n  max_trails: 3')
      .replace("pattern: '^val_bpb:\\s*(\\S+)'", "pattern: 'val_bpb: \\S+'")
      .replace('goal: minimize', 'goal: lower');
    expect(problems(text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        'research.budget: expected a duration like 300s or 5m, got "fast"',
        expect.stringMatching(/^research.metric.goal: .*got "lower"/),
        expect.stringMatching(/^research.metric.pattern: expected a regular expression with a group/),
        expect.stringMatching(/^research.max_trails: unknown key \(did you mean "max_trials"\?\)/),
      ]),
    );
    expect(problems(text)).toHaveLength(5);
  });

  it('checks rules across keys', () => {
    expect(problems(minimal.replace('low: 0.001, high: 0.1', 'low: 0, high: 0.1'))).toEqual(['research.params.lr.low: must be > 0 on a log scale, got 0']);
    expect(problems(minimal.replace(/  params: .*\n/, ''))).toEqual([
      'research.params: the search proposer needs a search space: declare at least one parameter',
    ]);
    expect(problems(minimal.replace('editable: [train.py]', 'editable: [train.py]\n  protected: [train.py]'))).toEqual([
      'research.protected: train.py cannot be both editable and protected',
    ]);
  });

  it('says what is wrong with YAML that does not parse, or a file that is not a mapping', () => {
    expect(problems('name: [unclosed')[0]).toMatch(/^: not valid YAML/);
    expect(problems('- a\n- b\n')[0]).toMatch(/expected a mapping/);
  });

  it('validates the bundled examples', () => {
    const file = resolve(import.meta.dirname, '../../examples/tiny-lm/strata.yaml');
    expect(() => parseConfig(readFileSync(file, 'utf8'), file)).not.toThrow();
  });

  it('ships a JSON Schema generated from the same definition', () => {
    const shipped = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../schema/strata.schema.json'), 'utf8'));
    expect(shipped, 'schema/strata.schema.json is stale: run npm run schema').toEqual(configJsonSchema());
  });
});
