/**
 * The contributions chart as markup, for known numbers: each interval and
 * estimate where one linear axis through the zero line puts them, the
 * not-needed change marked, the conflict and the best-vs-baseline rows, and
 * every description escaped.
 */
import { describe, expect, it } from 'vitest';
import { contributionsChartSvg } from '../../src/dashboard/render/contributions-chart-svg.ts';
import type { ComparisonView, VerifyView } from '../../src/dashboard/views/verify-view.ts';

const comparison = (improvement: number, low: number, high: number): ComparisonView => ({ improvement, interval: [low, high], confidence: 0.95, df: 3.8, p_value: 0.002, runs: [3, 3] });

const VIEW: VerifyView = {
  verify_id: 2,
  complete: true,
  repeats: 3,
  budget_ms: 10_000,
  env: {},
  runs: { done: 15, planned: 15 },
  metric: { name: 'loss', goal: 'minimize' },
  best_seq: 4,
  overall: comparison(0.5, 0.45, 0.55),
  final: { ...comparison(0.48, 0.4, 0.56), complete: true },
  contributions: [
    { seq: 1, description: 'turn on A', verdict: 'needed', comparison: comparison(0.3, 0.25, 0.35), conflict: null },
    { seq: 2, description: '<script>alert("x")</script> & "quotes"', verdict: 'not-needed', comparison: comparison(0.01, -0.04, 0.06), conflict: null },
    { seq: 3, description: 'turn on B', verdict: 'harmful', comparison: comparison(-0.1, -0.15, -0.05), conflict: null },
    { seq: 4, description: 'rewrite the loop', verdict: 'conflict', comparison: null, conflict: 'patch does not apply: train.py:3' },
  ],
};

/** The attributes of the first element `tag` of class `cls` inside `markup`. */
function attributes(markup: string, tag: string, cls: string): Record<string, string> {
  const match = new RegExp(`<${tag} class="${cls}"([^>]*)>`).exec(markup);
  if (!match) throw new Error(`no <${tag} class="${cls}"> in ${markup.slice(0, 200)}`);
  return Object.fromEntries([...match[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((item) => [item[1]!, item[2]!]));
}

/** The markup of one row group. */
function row(svg: string, selector: string): string {
  const match = new RegExp(`<g class="${selector}[^>]*>([\\s\\S]*?)</g>`).exec(svg);
  if (!match) throw new Error(`no row ${selector}`);
  return match[0];
}

describe('contributions chart', () => {
  const svg = contributionsChartSvg(VIEW, { title: 'night <b>' }).html;

  it('puts every interval and estimate on one linear axis through the zero line', () => {
    const zero = Number(attributes(svg, 'line', 'zero').x1);
    const rows: [string, ComparisonView][] = [
      ['contribution" data-seq="1"', VIEW.contributions[0]!.comparison!],
      ['contribution" data-seq="2"', VIEW.contributions[1]!.comparison!],
      ['contribution" data-seq="3"', VIEW.contributions[2]!.comparison!],
      ['overall"', VIEW.overall!],
      ['final"', VIEW.final!],
    ];
    const drawn = rows.map(([selector, numbers]) => {
      const markup = row(svg, selector);
      const line = attributes(markup, 'line', 'interval');
      return { numbers, x1: Number(line.x1), x2: Number(line.x2), cx: Number(attributes(markup, 'circle', 'estimate').cx) };
    });
    // Pixels per unit from the widest interval; every position must follow from it and the zero line.
    const scale = (drawn[3]!.x2 - drawn[3]!.x1) / (0.55 - 0.45);
    expect(scale).toBeGreaterThan(100);
    for (const { numbers, x1, x2, cx } of drawn) {
      expect(x1).toBeCloseTo(zero + scale * numbers.interval[0], -0.5);
      expect(x2).toBeCloseTo(zero + scale * numbers.interval[1], -0.5);
      expect(cx).toBeCloseTo(zero + scale * numbers.improvement, -0.5);
    }
    // Needed lies right of zero, harmful left of it, not needed across it; all inside the plot (270..670 of 960).
    expect(drawn[0]!.x1).toBeGreaterThan(zero);
    expect(drawn[2]!.x2).toBeLessThan(zero);
    expect(drawn[1]!.x1).toBeLessThan(zero);
    expect(drawn[1]!.x2).toBeGreaterThan(zero);
    for (const { x1, x2 } of drawn) {
      expect(x1).toBeGreaterThanOrEqual(270);
      expect(x2).toBeLessThanOrEqual(670);
    }
  });

  it('marks the not-needed change, reports the conflict, and labels the best and the final branch against the baseline', () => {
    const notNeeded = row(svg, 'contribution" data-seq="2"');
    expect(notNeeded).toContain('data-verdict="not-needed"');
    expect(notNeeded).toContain('stroke-dasharray');
    expect(notNeeded).toMatch(/class="verdict"[^>]*>not needed</);
    expect(row(svg, 'contribution" data-seq="1"')).toMatch(/class="verdict"[^>]*>needed</);
    expect(row(svg, 'contribution" data-seq="1"')).not.toContain('stroke-dasharray');
    const conflict = row(svg, 'contribution" data-seq="4"');
    expect(conflict).not.toContain('class="interval"');
    expect(conflict).toContain('inverse diff conflicts: patch does not apply');
    expect(row(svg, 'overall"')).toContain('best #4 vs baseline');
    expect(row(svg, 'overall"')).toContain('+0.5 [0.45, 0.55]');
    expect(row(svg, 'final"')).toContain('final branch vs baseline');
    expect(svg).toContain('no effect');
  });

  it('escapes descriptions and the title', () => {
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(svg).toContain('night &lt;b&gt;');
  });

  it('draws a verify that has no measured interval yet', () => {
    const partial = contributionsChartSvg(
      { ...VIEW, complete: false, runs: { done: 3, planned: 15 }, overall: null, final: null, contributions: [{ seq: 1, description: 'x', verdict: 'unmeasured', comparison: null, conflict: null }] },
      { title: 'night' },
    ).html;
    expect(partial).toContain('partial: 3 of 15 runs');
    expect(row(partial, 'overall"')).toContain('not enough runs yet');
    expect(partial).toContain('class="zero"');
  });
});
