import { formatDelta, formatMetric, formatPercent, formatSeconds, formatUsd } from '../render/format.ts';
import { h, type Markup } from '../render/markup.ts';
import { progressChartSvg } from '../render/progress-chart-svg.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import type { StudyRecord, TrialRecord } from '../../ledger/records.ts';
import { researchSummaryView } from '../views/research-summary-view.ts';
import { researchMetric, trialRow, type ResearchView } from '../views/research-view.ts';
import { verifyView, type VerifyView } from '../views/verify-view.ts';
import { contributionsChartSvg } from '../render/contributions-chart-svg.ts';
import { badge, card, diffBlock, stat, table } from './report-parts.ts';

/** A study up to this many finished trials has every one in the report's table; a longer one its kept trials and last rows. */
export const REPORT_ALL_ROWS = 1000;
/** The last rows a long study's report lists beside its kept trials. */
export const REPORT_LAST_ROWS = 50;

/** What a report shows of a research study: its view (the table's rows, the chart thinned) and the diffs of those rows. */
export interface ResearchReportData {
  view: ResearchView & { finished: number };
  diffs: Map<number, string | null>;
  /** The study's latest `strata verify`, or null when it has none. */
  verify: VerifyView | null;
}

/**
 * The report's data, read as the dashboard's summary is (counts and sums in
 * SQL, the chart thinned past CHART_POINTS) so a study of 20,000 trials gives
 * a report of a few hundred kilobytes: every trial of a short study, of a
 * long one its kept trials and the last REPORT_LAST_ROWS (`strata export`
 * has every one).
 *
 * @example
 * const { view, diffs } = researchReportData(reader, study);
 */
export function researchReportData(reader: LedgerReader, study: StudyRecord, now = Date.now()): ResearchReportData {
  const summary = researchSummaryView(reader, study, { now });
  const queries = reader.trialQueries;
  let records: TrialRecord[];
  if (summary.finished <= REPORT_ALL_ROWS) records = reader.trials(study.id).filter((trial) => trial.status !== 'queued' && trial.status !== 'running');
  else {
    const bySeq = new Map<number, TrialRecord>();
    for (const trial of [...queries.kept(study.id), ...queries.lastFinished(study.id, REPORT_LAST_ROWS)]) bySeq.set(trial.seq, trial);
    records = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  const metric = researchMetric(study);
  const usd = reader.usdBy(study.id, 'trial_id');
  const holdouts = reader.holdouts(study.id);
  const { progress, progress_since: _since, cursor: _cursor, table: _table, ...rest } = summary;
  return {
    view: { ...rest, progress: progress!, trials: records.map((trial) => trialRow(trial, metric, usd.get(trial.id) ?? 0, holdouts.get(trial.id))) },
    diffs: new Map(records.map((trial) => [trial.seq, trial.diff])),
    verify: verifyView(reader, study),
  };
}

/** "Trials (541 of 20,000: …)" where the table leaves rows out. */
export function trialsTitle(view: ResearchView & { finished?: number }): string {
  const finished = view.finished ?? view.trials.length;
  return finished > view.trials.length
    ? `Trials (${view.trials.length} of ${finished.toLocaleString('en-US')}: every kept trial and the last ${REPORT_LAST_ROWS}; strata export writes every one)`
    : `Trials (${view.trials.length})`;
}

const signed = (value: number | null) => (value === null ? '–' : `${value > 0 ? '+' : value < 0 ? '−' : ''}${Math.abs(value).toFixed(2)}%`);

/** The progress chart of a research study as SVG (also what `strata plot` writes). */
export function researchProgressSvg(view: ResearchView, showTitle = true): Markup {
  return progressChartSvg(view.progress, {
    showTitle,
    title: view.study.name,
    metric: view.metric.name,
    goal: view.metric.goal,
    descriptions: (view.progress as { description?: string[] }).description ?? view.trials.map((trial) => trial.description),
  });
}

/** The headline numbers, as label/value/note triples (HTML cards and Markdown bullets). */
export function researchHeadline(view: ResearchView): [string, string, string | null][] {
  const { best, baseline, counts } = view;
  const failed = (counts.crash ?? 0) + (counts.timeout ?? 0) + (counts.invalid ?? 0);
  return [
    [`best ${view.metric.name}`, formatMetric(best?.metric), best ? `trial #${best.seq}${best.commit ? ` · ${best.commit.slice(0, 8)}` : ''}` : 'no kept trial'],
    ['vs baseline', signed(view.improvement_pct), baseline ? `baseline ${formatMetric(baseline.metric)}` : null],
    ...(view.has_holdout && best ? [[`holdout ${view.metric.name}`, formatMetric(best.holdout), 'of the best'] as [string, string, string]] : []),
    ['trials', String((view as { finished?: number }).finished ?? view.trials.length), `${counts.keep ?? 0} kept · ${counts.discard ?? 0} discarded · ${failed} failed`],
    ['trial time', formatSeconds(view.total_time_s), view.duty ? `duty cycle ${formatPercent(view.duty.fraction, 0)}` : null],
    ['spend', formatUsd(view.spend.usd), view.spend.calls ? `${view.spend.calls} LLM calls` : 'no LLM calls'],
  ];
}

const VERDICT_WORDS = { needed: 'needed', 'not-needed': 'not needed (within the noise)', harmful: 'harmful (better without it)', conflict: 'conflict: could not be left out', unmeasured: 'not measured yet' } as const;

/** A signed metric difference with its interval: `+0.3 [0.28, 0.32]`. */
export function comparisonText(comparison: { improvement: number; interval: [number, number] } | null): string {
  return comparison ? `${comparison.improvement >= 0 ? '+' : '−'}${formatMetric(Math.abs(comparison.improvement))} [${formatMetric(comparison.interval[0])}, ${formatMetric(comparison.interval[1])}]` : '–';
}

/** The rows of the contributions table (HTML and Markdown): change, description, contribution, p, verdict. */
export function contributionRows(verify: VerifyView): { seq: number; description: string; contribution: string; p: string; verdict: string; notNeeded: boolean }[] {
  return verify.contributions.map((item) => ({
    seq: item.seq,
    description: item.description,
    contribution: comparisonText(item.comparison),
    p: item.comparison ? (item.comparison.p_value < 0.001 ? '<0.001' : item.comparison.p_value.toFixed(item.comparison.p_value < 0.01 ? 3 : 2)) : '–',
    verdict: item.conflict ? `${VERDICT_WORDS.conflict}: ${item.conflict}` : VERDICT_WORDS[item.verdict],
    notNeeded: item.verdict === 'not-needed',
  }));
}

/** What the verify measured, in a sentence. */
export function verifySentence(verify: VerifyView): string {
  return `strata verify ${verify.verify_id}: ${verify.repeats} interleaved runs of the baseline, the best and the best without each kept change${verify.complete ? '' : ` (unfinished: ${verify.runs.done} of ${verify.runs.planned} runs; the figures are partial)`}. Best vs baseline ${comparisonText(verify.overall)}${verify.final ? `; the finalized branch vs baseline ${comparisonText(verify.final)}` : ''}. Contribution = the best minus the best without the change (95% Welch t interval; positive = the change helps).`;
}

/** The report's card of a verified study: the contributions chart and its table. */
export function verifyCard(verify: VerifyView, title: string): Markup {
  return card(
    `Verified contributions · ${verify.metric.name}`,
    h('p', { class: 'muted' }, verifySentence(verify)),
    h('div', { class: 'figure', id: 'contributions-chart' }, contributionsChartSvg(verify, { title, showTitle: false })),
    table(
      ['change', 'contribution#', 'p#', 'verdict', 'description'],
      contributionRows(verify).map((row) => ({ ...(row.notNeeded ? { class: 'not-needed' } : {}), cells: [`#${row.seq}`, row.contribution, row.p, row.verdict, row.description] })),
    ),
  );
}

/** The research sections of the HTML report. */
export function researchReportBody(view: ResearchView, diffs: ReadonlyMap<number, string | null>, verify: VerifyView | null = null): (Markup | null)[] {
  const headline = researchHeadline(view);
  const rows = view.trials.map((trial) => ({
    class: `st-${trial.status}`,
    cells: [
      `#${trial.seq}`,
      badge(trial.status),
      formatMetric(trial.metric),
      formatDelta(trial.delta),
      ...(view.has_holdout ? [formatMetric(trial.holdout)] : []),
      formatSeconds(trial.duration_s),
      trial.usd ? formatUsd(trial.usd) : '–',
      trial.proposer,
      [
        trial.description,
        trial.reason && trial.status !== 'keep' && trial.status !== 'discard' ? h('div', { class: 'reason' }, trial.reason) : null,
        trial.flags.map((flag) => h('div', { class: 'flag' }, `⚠ ${flag}`)),
      ],
    ],
  }));
  const titles = ['#', 'status', `${view.metric.name}#`, 'Δ best#', ...(view.has_holdout ? ['holdout#'] : []), 'time#', 'cost#', 'proposer', 'description'];
  const kept = view.trials.filter((trial) => trial.status === 'keep' && trial.role !== 'baseline');
  return [
    h('div', { class: 'stats' }, headline.map(([label, value, note], index) => stat(label, value, note, index === 1 && (view.improvement_pct ?? 0) > 0))),
    card(`Progress · ${view.metric.name} (${view.metric.goal === 'minimize' ? 'lower' : 'higher'} is better)`, h('div', { class: 'figure' }, researchProgressSvg(view, false))),
    verify ? verifyCard(verify, view.study.name) : null,
    card(trialsTitle(view), table(titles, rows)),
    card(
      `Kept changes (${kept.length})`,
      kept.length === 0 ? h('p', { class: 'muted' }, 'No change beat the baseline.') : null,
      kept.map((trial) =>
        h(
          'details',
          { id: `trial-${trial.seq}` },
          h('summary', null, h('strong', null, `#${trial.seq}`), ` ${formatMetric(trial.metric)} (${formatDelta(trial.delta)}) — `, trial.description),
          diffs.get(trial.seq) ? diffBlock(diffs.get(trial.seq)!) : h('p', { class: 'muted' }, 'no diff recorded'),
        ),
      ),
    ),
    view.spend.by_role.length
      ? card('LLM spend', table(['role', 'calls#', 'USD#'], view.spend.by_role.map((role) => ({ cells: [role.role, String(role.calls), formatUsd(role.usd)] }))))
      : null,
  ];
}
