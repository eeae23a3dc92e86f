import { describe, expect, it } from 'vitest';
import { compilePattern, parseMetricNumber, parseMetrics } from '../../src/executors/metric-parser.ts';
import { ConfigError } from '../../src/core/errors.ts';

describe('parseMetrics with METRIC lines', () => {
  it('collects every metric, the last value of a name winning', () => {
    const output = 'step 1\nMETRIC val_loss=2.5\nMETRIC lr=3e-4\nMETRIC val_loss=1.75\nMETRIC eval.acc-top1=0.9\n';
    expect(parseMetrics(output, { name: 'val_loss' })).toEqual({
      metrics: { val_loss: 1.75, lr: 3e-4, 'eval.acc-top1': 0.9 },
      primary: 1.75,
      problems: [],
    });
  });

  it('reads nan and inf spellings as NaN and ±Infinity', () => {
    const output = ['METRIC a=nan', 'METRIC b=NaN', 'METRIC c=-nan', 'METRIC d=inf', 'METRIC e=-inf', 'METRIC f=Infinity', 'METRIC g=-Infinity', 'METRIC h=+INF'].join('\n');
    const { metrics, problems } = parseMetrics(output, { name: 'a' });
    expect(problems).toEqual([]);
    expect(metrics).toEqual({ a: NaN, b: NaN, c: NaN, d: Infinity, e: -Infinity, f: Infinity, g: -Infinity, h: Infinity });
  });

  it('reports a missing primary metric', () => {
    const result = parseMetrics('METRIC other=1\n', { name: 'val_loss' });
    expect(result.primary).toBeNull();
    expect(result.problems).toEqual(['no "METRIC val_loss=<number>" line in the output']);
  });

  it('reports unparseable values, and a bad last value erases the earlier good one', () => {
    const result = parseMetrics('METRIC val_loss=1.5\nMETRIC val_loss=tensor(0.5)\n', { name: 'val_loss' });
    expect(result.primary).toBeNull();
    expect(result.metrics).toEqual({});
    expect(result.problems).toEqual(['line 2: metric val_loss has a value that is not a number: "tensor(0.5)"']);
  });

  it('reports malformed METRIC lines and ignores lines that only look alike', () => {
    const result = parseMetrics('METRIC no_equals_sign\nMETRIC 9lives=1\nMETRICS val_loss=3\n  METRIC val_loss=4\nMETRIC val_loss = 2 \n', { name: 'val_loss' });
    expect(result.primary).toBe(2);
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toMatch(/^line 1: malformed METRIC line/);
    expect(result.problems[1]).toMatch(/^line 2: malformed METRIC line/);
  });

  it('splits lines on carriage returns too, so a metric after a progress bar is found', () => {
    expect(parseMetrics('10%\r100%\rMETRIC val_loss=0.5\r\n', { name: 'val_loss' }).primary).toBe(0.5);
  });

  it('caps the number of problems it lists', () => {
    const output = Array.from({ length: 30 }, () => 'METRIC x=oops').join('\n');
    const { problems } = parseMetrics(output, { name: 'x' });
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe('... and 10 more problems');
  });
});

describe('parseMetrics with a pattern', () => {
  const pattern = '^val_bpb:\\s*(\\S+)';

  it('takes the primary metric from the last matching line and still collects METRIC lines', () => {
    const output = 'val_bpb: 1.10\nMETRIC tokens_per_s=900\nval_bpb: 0.997\n';
    expect(parseMetrics(output, { name: 'val_bpb', pattern })).toEqual({
      metrics: { tokens_per_s: 900, val_bpb: 0.997 },
      primary: 0.997,
      problems: [],
    });
  });

  it('prefers the pattern over a METRIC line of the same name', () => {
    expect(parseMetrics('METRIC val_bpb=5\nval_bpb: 1\n', { name: 'val_bpb', pattern }).primary).toBe(1);
  });

  it('reports when no line matches', () => {
    const result = parseMetrics('METRIC val_bpb=5\n', { name: 'val_bpb', pattern });
    expect(result.primary).toBeNull();
    expect(result.problems[0]).toContain('no line matched research.metric.pattern');
  });

  it('reports a match whose capture is not a number', () => {
    const result = parseMetrics('val_bpb: pending\n', { name: 'val_bpb', pattern });
    expect(result.primary).toBeNull();
    expect(result.problems[0]).toMatch(/^line 1: research.metric.pattern matched/);
  });

  it('reads nan through a pattern too', () => {
    expect(parseMetrics('val_bpb: nan\n', { name: 'val_bpb', pattern }).primary).toBeNaN();
  });
});

describe('compilePattern', () => {
  it('compiles a pattern with a capture group', () => {
    expect(compilePattern('^loss=(\\d+)').exec('loss=12')?.[1]).toBe('12');
  });

  it('rejects an invalid regex with a config error naming research.metric.pattern', () => {
    const attempt = () => compilePattern('^val_bpb:(\\S+');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/research\.metric\.pattern: .*not a valid JavaScript regular expression/);
  });

  it('rejects a regex without a capture group', () => {
    let caught: unknown;
    try {
      compilePattern('^val_bpb:\\s*\\S+');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'config_invalid', issues: [{ path: 'research.metric.pattern' }] });
    expect((caught as Error).message).toContain('has no capture group');
  });

  it('counts a non-capturing group as no group', () => {
    expect(() => compilePattern('(?:val_bpb)')).toThrow(/no capture group/);
  });
});

describe('parseMetricNumber', () => {
  it.each([
    ['1', 1],
    ['-2.5', -2.5],
    ['+.5', 0.5],
    ['3.', 3],
    ['1e-3', 0.001],
    ['6.02E+23', 6.02e23],
  ])('parses %s', (text, value) => {
    expect(parseMetricNumber(text)).toBe(value);
  });

  it.each(['', ' ', '0x10', '1,5', '1.2.3', 'e5', 'tensor(0.5)', 'infinite', 'nanny'])('rejects %j', (text) => {
    expect(parseMetricNumber(text)).toBeNull();
  });
});
