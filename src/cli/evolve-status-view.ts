import type { EvolveStatus } from '../evolve/evolve-status.ts';
import { terminalLine } from '../core/terminal-text.ts';
import { palette } from './format.ts';
import { renderTable, truncate } from './table.ts';

/**
 * `strata status` for an evolve study: state, best candidate against the
 * seed, proposal counts, spend by role, the pool with lineage, recent iterations.
 *
 * @example
 * out.write(`${renderEvolveStatus(evolveStatus(ledger, study.id), out)}\n`);
 */
export function renderEvolveStatus(status: EvolveStatus, out: NodeJS.WritableStream): string {
  const colors = palette(out);
  const p = status.proposals;
  const lines = [
    colors.bold(status.study.name) + `  evolve · ${status.study.state}${status.study.stop_reason ? ` (${terminalLine(status.study.stop_reason)})` : ''}`,
    status.best ? `best #${status.best.idx}: val ${status.best.val_mean.toFixed(3)} · seed ${status.seed_val_mean?.toFixed(3) ?? '-'}` : 'no candidate scored yet',
    `${status.iterations} iterations · ${p.accepted} accepted, ${p.rejected} rejected, ${p.skipped} skipped, ${p.failed} failed reflections, merges ${p.mergeAccepted}/${p.mergeAccepted + p.mergeRejected} · ${status.metric_calls} metric calls`,
    `LLM spend $${status.spend.usd.toFixed(4)}` + (status.spend.by_role.length ? ` (${status.spend.by_role.map((r) => `${r.role} ${r.calls} calls $${r.usd.toFixed(4)}`).join(', ')})` : ''),
    '',
  ];
  const examples = status.candidates[0]?.scores ? Object.keys(status.candidates[0].scores) : [];
  const header = ['#', 'parents', 'origin', 'val', 'found at', 'description', ...examples];
  const rows = status.candidates.map((c) => [
    String(c.idx),
    c.parents.length ? c.parents.map((x) => `#${x}`).join('+') : '-',
    c.origin,
    c.val_mean.toFixed(3),
    `${c.found_at_metric_calls} calls`,
    truncate(terminalLine(c.description), 50),
    ...examples.map((id) => (c.scores?.[id] === undefined ? '-' : String(c.scores[id]))),
  ]);
  lines.push(renderTable(header, rows, ['right', 'left', 'left', 'right', 'right', 'left']));
  if (status.recent.length > 0) {
    lines.push('', 'recent iterations:');
    for (const r of status.recent) lines.push(colors.dim(`  it ${r.iteration} ${r.outcome}${r.child !== null ? ` #${r.child}` : ''}${r.parent !== null ? ` from #${r.parent}` : ''}: ${truncate(terminalLine(r.detail), 120)}`));
  }
  return lines.join('\n');
}
