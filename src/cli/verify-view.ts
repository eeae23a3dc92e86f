/**
 * A verify's result as a researcher reads it: each arm's runs, the best
 * against the baseline, and each kept change's contribution with its
 * interval, as a table and a text chart (the interval as a bar around zero).
 */
import { formatNumber, formatPValue } from '../acceptance/format-number.ts';
import { signed } from '../verify/describe-comparison.ts';
import { describeComparison } from '../verify/describe-comparison.ts';
import type { Contribution, VerifyResult } from '../verify/verify-record.ts';
import { terminalLine } from '../core/terminal-text.ts';
import { renderTable, truncate } from './table.ts';

const VERDICTS: Record<Contribution['verdict'], string> = {
  needed: 'needed',
  'not-needed': 'not needed (within the noise)',
  harmful: 'harmful (better without it)',
  conflict: 'conflict: cannot be left out',
  unmeasured: 'not measured yet',
};

export { describeComparison };

/** The whole result as text lines. */
export function renderVerify(result: VerifyResult, metric: string): string {
  const lines: string[] = [];
  lines.push(
    renderTable(
      ['arm', 'runs', `mean ${metric}`, 'failed'],
      result.arms.map((arm) => [arm.arm.label, String(arm.metrics.length), arm.mean === null ? '-' : formatNumber(arm.mean), String(arm.failed)]),
      ['left', 'right', 'right', 'right'],
    ),
  );
  const top = result.plan.purpose === 'finalize' ? 'final branch' : result.arms.find((arm) => arm.arm.kind === 'best')?.arm.label ?? 'best';
  lines.push('', `${top} vs baseline: improvement ${describeComparison(result.overall)}`);
  if (result.contributions.length > 0) {
    lines.push('', 'contribution of each kept change (the best minus the best without it; positive = the change helps):');
    lines.push(
      renderTable(
        ['change', 'description', 'contribution', '95% interval', 'df', 'p', 'verdict'],
        result.contributions.map((item) => [
          `#${item.change.seq}`,
          // A proposer wrote the description and git's message quotes the change's paths: printed without control sequences.
          truncate(terminalLine(item.change.description), 40),
          item.comparison ? signed(item.comparison.improvement) : '-',
          item.comparison ? `[${formatNumber(item.comparison.interval[0])}, ${formatNumber(item.comparison.interval[1])}]` : '-',
          item.comparison && Number.isFinite(item.comparison.df) ? item.comparison.df.toFixed(1) : '-',
          item.comparison ? formatPValue(item.comparison.pValue).replace(/^p/, '') : '-',
          item.conflict ? `${VERDICTS.conflict} (${truncate(terminalLine(item.conflict), 60)})` : VERDICTS[item.verdict],
        ]),
        ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
      ),
    );
    lines.push('', ...contributionsChart(result.contributions));
  }
  return lines.join('\n');
}

/** Each change's interval as a bar on one shared axis through zero: `#3 |    ·  [==●==]   |`. */
export function contributionsChart(contributions: readonly Contribution[], width = 40): string[] {
  const measured = contributions.filter((item) => item.comparison !== null);
  if (measured.length === 0) return [];
  const low = Math.min(0, ...measured.map((item) => item.comparison!.interval[0]));
  const high = Math.max(0, ...measured.map((item) => item.comparison!.interval[1]));
  const span = high - low || 1;
  const at = (value: number) => Math.min(width - 1, Math.max(0, Math.round(((value - low) / span) * (width - 1))));
  const label = Math.max(...measured.map((item) => `#${item.change.seq}`.length));
  const lines = [`${''.padEnd(label)}  ${formatNumber(low).padEnd(width - formatNumber(high).length)}${formatNumber(high)}`];
  for (const item of measured) {
    const cells = Array.from({ length: width }, () => ' ');
    cells[at(0)] = '|';
    const [from, to] = item.comparison!.interval.map(at) as [number, number];
    for (let i = from; i <= to; i++) cells[i] = '=';
    cells[at(item.comparison!.improvement)] = '●';
    lines.push(`${`#${item.change.seq}`.padEnd(label)}  ${cells.join('')}  ${VERDICTS[item.verdict].split(' (')[0]}`);
  }
  lines.push(`${''.padEnd(label)}  ${' '.repeat(at(0))}0 (| = no effect; bar = 95% interval, ● = estimate)`);
  return lines;
}

