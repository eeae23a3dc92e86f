import { formatDuration } from '../core/duration.ts';
import type { TrialRecord } from '../ledger/records.ts';
import type { ResearchObserver } from '../research/research-observer.ts';
import type { StudySummary } from '../research/study-summary.ts';
import { formatMetric, palette, statusColor } from './format.ts';
import { schedulingLine } from './scheduling-line.ts';
import { truncate } from './table.ts';
import { terminalLine } from '../core/terminal-text.ts';
import { REPEAT_ROLES } from '../core/trial.ts';

/**
 * Terminal presentation of a running study: a header, one line per finished
 * trial, a live line for the running one (TTY only), and a summary. Text
 * that trials, proposers and models wrote (descriptions, reasons, warnings
 * quoting them) is printed without control sequences (core/terminal-text.ts).
 */
export function createResearchReporter(out: NodeJS.WritableStream, options: { goal: 'minimize' | 'maximize'; metric: string }): ResearchObserver & { close(): void } {
  const colors = palette(out);
  const tty = Boolean((out as NodeJS.WriteStream).isTTY);
  // Trials running now (several with slots > 1); the live line shows the oldest and counts the rest.
  const live = new Map<number, { trial: TrialRecord; started: number }>();
  let timer: NodeJS.Timeout | undefined;
  let liveShown = false;
  const columns = () => (out as NodeJS.WriteStream).columns ?? 120;

  const clearLive = () => {
    if (tty && liveShown) out.write('\r\x1b[2K');
    liveShown = false;
  };
  const drawLive = () => {
    const oldest = live.values().next().value;
    if (!tty || !oldest) return;
    const elapsed = Date.now() - oldest.started;
    const budget = oldest.trial.budgetMs ?? 0;
    const fraction = budget > 0 ? Math.min(1, elapsed / budget) : 0;
    const bar = '█'.repeat(Math.round(fraction * 20)).padEnd(20, '░');
    const others = live.size > 1 ? ` (+${live.size - 1} more running)` : '';
    const text = `  #${oldest.trial.seq} running ${bar} ${formatDuration(elapsed)}/${formatDuration(budget)}${others}  ${terminalLine(oldest.trial.description)}`;
    out.write(`\r\x1b[2K${truncate(text, columns() - 1)}`);
    liveShown = true;
  };
  const print = (line: string) => {
    clearLive();
    out.write(`${line}\n`);
    drawLive();
  };
  const better = (delta: number) => (options.goal === 'minimize' ? delta < 0 : delta > 0);

  return {
    studyStarted(info) {
      print(colors.bold(`strata research · ${info.study}`) + colors.dim(`  (${info.resumed ? 'resumed' : 'new study'})`));
      print(`  branch ${info.branch} · budget ${formatDuration(info.budgetMs)}/trial · proposer ${info.proposer} · ${options.goal} ${options.metric}`);
      if (info.acceptance || info.sandbox) {
        print(colors.dim(`  acceptance ${info.acceptance ?? '-'}${info.sandbox ? ` · sandbox: ${info.sandbox}` : ''}`));
      }
      const r = info.recovery;
      if (r.interrupted.length > 0) print(colors.yellow(`  recovered: trial ${r.interrupted.join(', ')} interrupted by the last stop; re-queued ${r.requeued.length}`));
      if (r.settledRepeats.length > 0) print(colors.yellow(`  settled: repeat run ${r.settledRepeats.join(', ')} measured before the last stop`));
      if (r.resumedDecisions.length > 0) print(colors.yellow(`  resuming the decision on trial ${r.resumedDecisions.join(', ')} (measured before the last stop)`));
      if (r.reattached.length > 0) print(colors.yellow(`  re-attached: trial ${r.reattached.join(', ')} kept running on the cluster while no orchestrator watched; following it`));
      if (r.killedProcesses > 0) print(colors.yellow(`  killed ${r.killedProcesses} trial process(es) the last orchestrator left running`));
      if (r.prunedWorktrees.length > 0) print(colors.dim(`  removed ${r.prunedWorktrees.length} stale worktree(s)`));
      if (r.branchRepaired) print(colors.dim('  moved the study branch to the ledger\'s best'));
      for (const warning of info.warnings) print(colors.yellow(`  warning: ${terminalLine(warning)}`));
      print(colors.dim(`  ${'trial'.padStart(5)}  ${'status'.padEnd(11)} ${options.metric.padStart(12)}  ${'delta'.padStart(10)}  ${'time'.padStart(7)}  description`));
    },
    trialStarted(trial) {
      live.set(trial.id, { trial, started: Date.now() });
      if (tty) {
        timer ??= setInterval(drawLive, 1000);
        timer.unref();
        drawLive();
      }
    },
    trialFinished(trial) {
      live.delete(trial.id);
      const delta = trial.metric !== null && trial.bestBefore !== null ? trial.metric - trial.bestBefore : null;
      const deltaText = delta === null ? '' : `${delta > 0 ? '+' : ''}${formatMetric(delta)}`;
      const coloredDelta = delta === null ? '' : better(delta) ? colors.green(deltaText) : colors.dim(deltaText);
      // Repeat runs (baseline repeats, confirmations, incumbent re-checks) measure noise; they are never keeps.
      const repeat = REPEAT_ROLES.includes(trial.role) && trial.status === 'discard';
      const status = repeat ? colors.dim('repeat'.padEnd(11)) : statusColor(trial.status.padEnd(11), colors);
      const reason = trial.status === 'keep' || trial.status === 'discard' ? '' : colors.dim(`  (${truncate(terminalLine(trial.statusReason ?? ''), 80)})`);
      print(
        `  ${`#${trial.seq}`.padStart(5)}  ${status} ${formatMetric(trial.metric).padStart(12)}  ${' '.repeat(Math.max(0, 10 - deltaText.length))}${coloredDelta}  ${(trial.wallMs === null ? '-' : formatDuration(trial.wallMs)).padStart(7)}  ${truncate(terminalLine(trial.description), 70)}${reason}`,
      );
    },
    proposalFailed(seq, message) {
      print(colors.red(`  #${seq} proposal failed: ${truncate(terminalLine(message), 160)}`));
    },
    studyFinished(summary: StudySummary) {
      live.clear();
      clearLive();
      out.write(`${renderSummary(summary, colors)}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      clearLive();
    },
  };
}

function renderSummary(summary: StudySummary, colors: ReturnType<typeof palette>): string {
  const lines: string[] = [''];
  const { best, baseline } = summary;
  lines.push(colors.bold(`study ${summary.study.name}: ${summary.study.state}`) + (summary.study.stop_reason ? ` — ${terminalLine(summary.study.stop_reason)}` : ''));
  if (best && baseline) {
    const change = best.metric !== null && baseline.metric !== null && baseline.metric !== 0 ? ((best.metric - baseline.metric) / Math.abs(baseline.metric)) * 100 : null;
    lines.push(
      `  best ${summary.study.metric} ${formatMetric(best.metric)} (trial #${best.trial}, ${best.commit?.slice(0, 8) ?? '-'}) vs baseline ${formatMetric(baseline.metric)}${change === null ? '' : ` (${change > 0 ? '+' : ''}${change.toFixed(2)}%)`}`,
    );
  }
  const c = summary.counts;
  const repeats = summary.trials.filter((trial) => REPEAT_ROLES.includes(trial.role) && trial.status === 'discard').length;
  lines.push(
    `  ${summary.trials.length} runs${repeats ? ` (${repeats} repeat runs for the noise estimate)` : ''}: ${c.keep ?? 0} kept, ${(c.discard ?? 0) - repeats} discarded, ${c.crash ?? 0} crashed, ${c.timeout ?? 0} timed out, ${c.invalid ?? 0} invalid, ${c.interrupted ?? 0} interrupted · ${formatDuration(summary.total_time_s * 1000)} of trial time`,
  );
  if (summary.spend_usd > 0) lines.push(`  LLM spend $${summary.spend_usd.toFixed(summary.spend_usd < 1 ? 4 : 2)}`);
  const scheduling = schedulingLine(summary.scheduling);
  if (scheduling) lines.push(`  ${scheduling}`);
  if (summary.study.branch) lines.push(colors.dim(`  the best code is on branch ${summary.study.branch} (git log ${summary.study.branch})`));
  lines.push(`  see it: npx strata serve   (a shareable file: npx strata report)`);
  return lines.join('\n');
}
