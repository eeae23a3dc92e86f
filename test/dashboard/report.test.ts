import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plotCommand } from '../../src/cli/commands/plot.ts';
import { reportCommand } from '../../src/cli/commands/report.ts';
import { main } from '../../src/cli/main.ts';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { renderReportHtml } from '../../src/dashboard/report/report-html.ts';
import { escapeMarkdown, renderReportMarkdown } from '../../src/dashboard/report/report-markdown.ts';
import { evolveFixture, HOSTILE_REPLY } from './evolve-fixture.ts';
import { researchFixture, type ResearchFixture } from './research-fixture.ts';

let fixture: ResearchFixture;
let reader: LedgerReader;
const sink = () => {
  let text = '';
  return { stream: { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream, text: () => text };
};

beforeAll(async () => {
  fixture = await researchFixture({ maxTrials: 6 });
  reader = LedgerReader.open(fixture.ledgerPath);
}, 120_000);

afterAll(() => reader?.close());

/** Everything the report loads from elsewhere: there must be nothing. */
function externalReferences(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith('#'));
}

describe('strata report (HTML)', () => {
  it('is one self-contained file: no script, nothing fetched, a locking CSP', () => {
    const html = renderReportHtml(reader, reader.studyByName(fixture.studyName)!);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(externalReferences(html)).toEqual([]);
    expect(html).toContain('content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:"');
    // No event-handler attribute in any tag (escaped text may mention one).
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+\s*=/i);
  });

  it('shows every trial in the chart and the table, and escapes their text', () => {
    const html = renderReportHtml(reader, reader.studyByName(fixture.studyName)!);
    expect(html.match(/class="point"/g)).toHaveLength(6);
    expect(html.match(/<tr class="st-/g)).toHaveLength(6);
    expect(html).toContain('try &lt;script&gt;window.__pwned = 1&lt;/script&gt; and &lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt; tags');
    expect(html).not.toContain('<img src=x');
    // Kept changes come with their diffs.
    expect(html).toContain('<span class="add">+const WIDTH = 64;</span>');
  });

  it('covers an evolve study: scores, lineage, front, best text, proposals with the reflection', () => {
    const evolve = evolveFixture();
    const other = LedgerReader.open(evolve.ledgerPath);
    try {
      const html = renderReportHtml(other, other.studyByName(evolve.studyName)!);
      expect(html).not.toMatch(/<script/i);
      expect(html).toContain('aria-label="candidate lineage"');
      expect(html).toContain('data-nodes="5"');
      expect(html).toContain('aria-label="Pareto front per validation example"');
      expect(html).toContain('Best candidate #4');
      expect(html).toContain('href="#candidate-3"');
      expect(html).toContain('users write &lt;script&gt;window.__pwned = 3&lt;/script&gt;');
      expect(html).not.toContain(HOSTILE_REPLY);
    } finally {
      other.close();
    }
  });
});

describe('strata report --format md and strata plot', () => {
  it('writes Markdown with the chart as an SVG file beside it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strata-md-')), 'night.md');
    const printed = sink();
    expect(await reportCommand({ cwd: fixture.dir, config: 'strata.yaml', format: 'md', out, stdout: printed.stream })).toBe(0);
    const markdown = readFileSync(out, 'utf8');
    expect(markdown).toContain('![loss per trial](night-progress.svg)');
    expect(readFileSync(join(out, '..', 'night-progress.svg'), 'utf8').match(/class="point"/g)).toHaveLength(6);
    expect(markdown).toContain('&lt;script&gt;');
    expect(markdown).not.toContain('<script>');
    expect(markdown).toMatch(/```diff\n[\s\S]*\+const WIDTH = 64;/);
    expect(printed.text()).toContain('night-progress.svg');
  });

  it('writes the progress chart alone with strata plot, and the report through the CLI table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-plot-'));
    expect(await plotCommand({ cwd: fixture.dir, config: 'strata.yaml', out: join(dir, 'progress.svg'), stdout: sink().stream })).toBe(0);
    const svg = readFileSync(join(dir, 'progress.svg'), 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('data-points="6"');
    const code = await main(['report', '--study', fixture.studyName, '--out', join(dir, 'r.html')], { cwd: fixture.dir, signal: new AbortController().signal });
    expect(code).toBe(0);
    expect(existsSync(join(dir, 'r.html'))).toBe(true);
  });

  it('names the studies when the one asked for is not there', async () => {
    await expect(reportCommand({ cwd: fixture.dir, config: 'strata.yaml', study: 'nope', stdout: sink().stream })).rejects.toThrow(/no study "nope".*studies in the ledger: tiny-agent/);
  });

  it('escapes Markdown and HTML in table cells', () => {
    expect(escapeMarkdown('a|b <i>x</i> [l](u) *s*\nnext')).toBe('a\\|b &lt;i&gt;x&lt;/i&gt; \\[l\\](u) \\*s\\* next');
    const evolve = evolveFixture('md-evolve');
    const other = LedgerReader.open(evolve.ledgerPath);
    try {
      const report = renderReportMarkdown(other, other.studyByName('md-evolve')!, 'r');
      expect(Object.keys(report.files).sort()).toEqual(['r-front.svg', 'r-lineage.svg', 'r-scores.svg']);
      expect(report.markdown).toContain('## Best candidate #4');
    } finally {
      other.close();
    }
  });
});
