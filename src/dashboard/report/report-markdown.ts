import type { StudyRecord } from '../../ledger/records.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { formatDelta, formatMetric, formatSeconds, formatUsd } from '../render/format.ts';
import { evolveView } from '../views/evolve-view.ts';
import { evolveFigures, evolveHeadline } from './report-evolve.ts';
import { contributionsChartSvg } from '../render/contributions-chart-svg.ts';
import { contributionRows, researchHeadline, researchProgressSvg, researchReportData, trialsTitle, verifySentence } from './report-research.ts';

/** A Markdown report and the SVG files it links, by file name. */
export interface MarkdownReport {
  markdown: string;
  files: Record<string, string>;
}

/**
 * Text for Markdown: renderers such as GitHub's accept inline HTML, so `<`,
 * `>` and `&` are escaped like Markdown's own punctuation; newlines become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1');
}

/** A fenced block whose fence is longer than any backtick run inside it. */
function fenced(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`;
}

function tableMd(titles: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(titles), line(titles.map((_, i) => (numeric[i] ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/**
 * The report as Markdown with its charts as SVG files beside it
 * (`<stem>-progress.svg`, or for evolve `<stem>-scores.svg`, `-lineage.svg`, `-front.svg`).
 *
 * @example
 * const { markdown, files } = renderReportMarkdown(reader, study, 'report');
 */
export function renderReportMarkdown(reader: LedgerReader, study: StudyRecord, stem: string, now = new Date()): MarkdownReport {
  const lines = [`# ${escapeMarkdown(study.name)}`, '', `${study.kind} study · **${study.state}**${study.stopReason ? ` · ${escapeMarkdown(study.stopReason)}` : ''}${study.branch ? ` · branch \`${study.branch.replace(/`/g, '')}\`` : ''}`, ''];
  const files: Record<string, string> = {};
  const bullets = (headline: [string, string, string | null][]) => headline.map(([label, value, note]) => `- **${label}**: ${value}${note ? ` (${escapeMarkdown(note)})` : ''}`);
  if (study.kind === 'evolve') {
    const view = evolveView(reader, study, now.getTime());
    const figures = evolveFigures(view, (idx) => `#candidate-${idx}`);
    for (const [name, svg] of Object.entries(figures)) files[`${stem}-${name}.svg`] = svg.html;
    lines.push(...bullets(evolveHeadline(view)), '');
    lines.push('## Best validation score against metric calls', '', `![best validation score against metric calls](${stem}-scores.svg)`, '');
    lines.push('## Lineage', '', `![candidate lineage](${stem}-lineage.svg)`, '', '## Pareto front', '', `![Pareto front per validation example](${stem}-front.svg)`, '');
    const best = view.best ? reader.candidates(study.id).find((c) => c.idx === view.best!.idx) : undefined;
    if (best?.components) {
      lines.push(`## Best candidate #${best.idx}`, '');
      for (const [name, text] of Object.entries(best.components)) lines.push(`### ${escapeMarkdown(name)}`, '', fenced(text, 'text'), '');
    }
    lines.push('## Candidates', '');
    lines.push(
      tableMd(
        ['#', 'origin', 'parents', 'val mean', 'front', 'test', 'found at', 'description'],
        [...view.candidates].sort((a, b) => (b.val_mean ?? -Infinity) - (a.val_mean ?? -Infinity)).map((c) => [`${c.idx}`, escapeMarkdown(c.origin), c.parents.join(' + ') || '–', formatMetric(c.val_mean), String(c.front_count), formatMetric(c.test_mean), String(c.found_at ?? '–'), escapeMarkdown(c.description)]),
        [true, false, false, true, true, true, true, false],
      ),
      '',
      '## Proposals',
      '',
      tableMd(
        ['iteration', 'outcome', 'parent', 'child', 'component', 'minibatch', 'detail'],
        view.proposals.map((p) => [String(p.iteration), escapeMarkdown(p.outcome), p.parent === null ? '–' : `#${p.parent}`, p.child === null ? '–' : `#${p.child}`, escapeMarkdown(p.component ?? ''), p.parent_score === null ? '' : `${formatMetric(p.parent_score)} → ${formatMetric(p.child_score)}`, escapeMarkdown(p.detail)]),
        [true, false, false, false, false, false, false],
      ),
    );
  } else {
    const { view, diffs, verify } = researchReportData(reader, study, now.getTime());
    files[`${stem}-progress.svg`] = researchProgressSvg(view).html;
    lines.push(...bullets(researchHeadline(view)), '', `![${escapeMarkdown(view.metric.name)} per trial](${stem}-progress.svg)`, '');
    if (verify) {
      files[`${stem}-contributions.svg`] = contributionsChartSvg(verify, { title: study.name }).html;
      lines.push('## Verified contributions', '', escapeMarkdown(verifySentence(verify)), '', `![contribution of each kept change](${stem}-contributions.svg)`, '');
      lines.push(
        tableMd(
          ['change', 'contribution', 'p', 'verdict', 'description'],
          contributionRows(verify).map((row) => [`#${row.seq}`, escapeMarkdown(row.contribution), escapeMarkdown(row.p), row.notNeeded ? `_${escapeMarkdown(row.verdict)}_` : escapeMarkdown(row.verdict), escapeMarkdown(row.description)]),
          [false, true, true, false, false],
        ),
        '',
      );
    }
    lines.push('## Trials', '', ...(view.finished > view.trials.length ? [`_${escapeMarkdown(trialsTitle(view))}_`, ''] : []));
    lines.push(
      tableMd(
        ['#', 'status', view.metric.name, 'Δ best', ...(view.has_holdout ? ['holdout'] : []), 'time', 'cost', 'proposer', 'description'].map(escapeMarkdown),
        view.trials.map((t) => [
          String(t.seq),
          t.status === 'keep' ? '**keep**' : t.status,
          formatMetric(t.metric),
          formatDelta(t.delta),
          ...(view.has_holdout ? [formatMetric(t.holdout)] : []),
          formatSeconds(t.duration_s),
          t.usd ? formatUsd(t.usd) : '–',
          escapeMarkdown(t.proposer),
          escapeMarkdown(t.description + (t.reason && t.status !== 'keep' && t.status !== 'discard' ? ` (${t.reason})` : '') + t.flags.map((flag) => ` ⚠ ${flag}`).join('')),
        ]),
        [true, false, true, true, ...(view.has_holdout ? [true] : []), true, true, false, false],
      ),
      '',
    );
    const kept = view.trials.filter((t) => t.status === 'keep' && t.role !== 'baseline');
    if (kept.length) lines.push('## Kept changes', '');
    for (const trial of kept) {
      lines.push(`### #${trial.seq} ${formatMetric(trial.metric)} (${formatDelta(trial.delta)}): ${escapeMarkdown(trial.description)}`, '', fenced(diffs.get(trial.seq) ?? '', 'diff'), '');
    }
  }
  lines.push('', `_Written by \`strata report\` on ${now.toISOString().replace('T', ' ').slice(0, 16)} UTC._`, '');
  return { markdown: lines.join('\n'), files };
}
