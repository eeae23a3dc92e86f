import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StudyStateError } from '../../core/errors.ts';
import { formatDuration } from '../../core/duration.ts';
import { Ledger, ownerAlive } from '../../ledger/ledger.ts';
import type { StudyRecord, TrialRecord } from '../../ledger/records.ts';
import { summarizeStudy, summarizeStudyWith, type StudySummary, type TrialRow } from '../../research/study-summary.ts';
import { ledgerPathFor } from '../../workspace/state-dir.ts';
import { formatMetric, palette, statusColor } from '../format.ts';
import { loadConfig } from '../load-config.ts';
import { schedulingLine } from '../scheduling-line.ts';
import { lineage, linesOf, STATUS_ALL_BELOW, STATUS_LAST_ROWS, STATUS_LINEAGE_ROWS, statusLines, type StatusLine } from '../status-rows.ts';
import { renderTable, truncate } from '../table.ts';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import { describeGuidanceChange } from '../../oversight/guidance-changes.ts';
import { REPEAT_ROLES } from '../../core/trial.ts';

export interface StatusCommandOptions {
  config: string;
  cwd: string;
  study?: string;
  json?: boolean;
  /** Every trial in the table; by default a long study shows its best lineage and last rows (--json always has every trial). */
  all?: boolean;
  out?: NodeJS.WritableStream;
}

/** Open the repository's ledger read-side and find the study named by --study or the config. */
export async function openStudyForReading(options: { config: string; cwd: string; study?: string }) {
  // The study's ledger sits at the root of the repository holding its config (or beside the config outside git).
  const configPath = resolve(options.cwd, options.config);
  const ledgerPath = ledgerPathFor(options.study === undefined || existsSync(configPath) ? dirname(configPath) : options.cwd);
  if (!existsSync(ledgerPath)) throw new StudyStateError(`no ledger at ${ledgerPath}: run \`strata research\` (or \`strata evolve\`) first`);
  const name = options.study ?? loadConfig(options.config, options.cwd).config.name;
  // Read-only where it can be: status must work in a read-only repository and never write to a running study's ledger.
  const ledger = Ledger.openForReading(ledgerPath);
  const study = ledger.studyByName(name);
  if (!study) {
    const known = ledger.studies().map((s) => s.name);
    ledger.close();
    throw new StudyStateError(`no study "${name}" in ${ledgerPath}${known.length ? `; studies: ${known.join(', ')}` : ''}`);
  }
  return { ledger, study };
}

/** `strata status [--json] [--all]`: the study at a glance. */
export async function statusCommand(options: StatusCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { ledger, study } = await openStudyForReading(options);
  // `running` in the ledger is what the last orchestrator wrote; after a kill -9 or a crash nothing runs it any more.
  const gone = orchestratorGone(study);
  const text = (rendered: string) => `${rendered}\n${gone ? `${palette(out).yellow(gone)}\n` : ''}`;
  try {
    // Each kind's modules load only when its study is shown: a research status does not pay for evolve's.
    if (study.kind === 'evolve') {
      const [{ evolveStatus }, { renderEvolveStatus }] = await Promise.all([import('../../evolve/evolve-status.ts'), import('../evolve-status-view.ts')]);
      const status = evolveStatus(ledger, study.id, { perExample: Boolean(options.json) });
      out.write(options.json ? `${safeJson(status, 2)}\n` : text(renderEvolveStatus(status, out)));
      return 0;
    }
    if (study.kind === 'pipeline') {
      const [{ summarizePipeline }, { renderPipelineStatus }] = await Promise.all([import('../../pipeline/pipeline-summary.ts'), import('./pipeline.ts')]);
      const pipeline = summarizePipeline(ledger, study);
      out.write(options.json ? `${safeJson(pipeline, 2)}\n` : text(renderPipelineStatus(pipeline, out)));
      return 0;
    }
    if (options.json || options.all) {
      const summary = summarizeStudy(ledger, study);
      out.write(options.json ? `${safeJson(summary, 2)}\n` : text(renderStatus(summary, out, { all: true })));
      return 0;
    }
    const { summary, shown } = statusOverview(ledger, study);
    out.write(text(renderStatus(summary, out, { shown })));
    return 0;
  } finally {
    ledger.close();
  }
}

/**
 * The line that says a study the ledger calls running has no live
 * orchestrator (killed, crashed, its host gone), and the command that resumes
 * it; undefined when it is not running or its owner lives.
 */
export function orchestratorGone(study: StudyRecord, now = Date.now()): string | undefined {
  if (study.state !== 'running' || ownerAlive(study, now)) return undefined;
  const who = study.ownerPid === null ? 'no orchestrator holds it' : `its orchestrator (process ${study.ownerPid} on ${study.ownerHost ?? 'an unknown host'}) is gone`;
  const beat = study.heartbeatAt === null ? '' : `, last heartbeat ${formatDuration(Math.max(0, now - Date.parse(study.heartbeatAt)))} ago`;
  // A pipeline's stage resumes with its pipeline (strata resume refuses a stage).
  const how = study.kind !== 'pipeline' && study.name.includes('/') ? 'run its pipeline again (strata pipeline)' : `\`strata ${study.kind}\` (or \`strata resume\`) resumes it`;
  return `not running: ${who}${beat}; ${how}`;
}

/** Which rows of a long study the table shows, worked out in SQL (see statusOverview). */
export interface ShownRows {
  lines: StatusLine[];
  /** Finished trials in all. */
  total: number;
  /** Steps of the best's lineage, shown or not. */
  lineageSteps: number;
  /** Whether any finished trial has a holdout metric (the column is shown). */
  holdout: boolean;
}

/**
 * The summary `strata status` prints, reading only what it shows: counts and
 * sums in SQL, the kept trials (for the best's lineage), the last rows and
 * what runs. A study of 20,000 trials reads a few hundred rows, not 20,000.
 * A short study gets every row, as before.
 */
export function statusOverview(ledger: Ledger, study: StudyRecord, now = Date.now()): { summary: StudySummary; shown?: ShownRows } {
  const queries = ledger.trialQueries;
  const finishedSeqs = queries.finishedSeqs(study.id);
  if (finishedSeqs.length < STATUS_ALL_BELOW) return { summary: summarizeStudy(ledger, study, now) };
  let shown: ShownRows | undefined;
  const summary = summarizeStudyWith(
    ledger,
    study,
    (row) => {
      // The lineage is followed through the kept trials' commits alone; only the rows shown are read whole.
      const links: { id: number; seq: number; status: TrialRow['status']; commit: string | null; parent_commit: string | null }[] = queries.keptLinks(study.id);
      const best = study.bestTrialId === null ? undefined : (links.find((link) => link.id === study.bestTrialId) ?? queries.byIds([study.bestTrialId]).find((trial) => trial.studyId === study.id));
      if (best && !links.some((link) => link.id === best.id)) {
        const record = best as TrialRecord;
        links.push({ id: record.id, seq: record.seq, status: record.status, commit: record.keptCommit ?? record.candidateCommit, parent_commit: record.parentCommit });
      }
      const chain = lineage(links, best?.seq ?? null);
      const picked = [...chain.slice(0, STATUS_LINEAGE_ROWS), ...chain.slice(-1)].map((link) => link.id);
      const rows = new Map<number, TrialRow>([...queries.byIds(picked), ...queries.lastFinished(study.id, STATUS_LAST_ROWS)].map((trial) => [trial.seq, row(trial)]));
      const holdouts = ledger.research.holdoutResults(study.id);
      shown = {
        lines: linesOf(finishedSeqs, rows),
        total: finishedSeqs.length,
        lineageSteps: chain.length,
        holdout: [...holdouts.values()].some((result) => result.metric !== null),
      };
      return [...rows.values()].sort((a, b) => a.seq - b.seq);
    },
    now,
  );
  return shown ? { summary, shown } : { summary };
}

/** Program and note changes `strata status` lists (the newest). */
const GUIDANCE_LINES = 5;

/**
 * The research study as `strata status` prints it: header, then the trial
 * table (see statusLines for which rows), then what is running. Text that
 * trials, proposers and models wrote (descriptions, reasons) is printed
 * without its control sequences (core/terminal-text.ts).
 */
export function renderStatus(summary: StudySummary, out: NodeJS.WritableStream, options: { all?: boolean; shown?: ShownRows | undefined } = {}): string {
  const colors = palette(out);
  const lines = [colors.bold(`${summary.study.name}`) + `  ${summary.study.kind} · ${summary.study.state}${summary.study.stop_reason ? ` (${terminalLine(summary.study.stop_reason)})` : ''}`];
  lines.push(`branch ${summary.study.branch ?? '-'} · ${summary.study.goal} ${summary.study.metric}`);
  const scheduling = schedulingLine(summary.scheduling);
  if (scheduling) lines.push(scheduling);
  if (summary.best) {
    lines.push(
      `best ${formatMetric(summary.best.metric)} at trial #${summary.best.trial} (${summary.best.commit?.slice(0, 8) ?? '-'}) · baseline ${formatMetric(summary.baseline?.metric)}` +
        (summary.best.holdout !== null ? ` · holdout ${formatMetric(summary.best.holdout)} (gap ${formatMetric(summary.best.holdout_gap)})` : ''),
    );
    if (summary.best.recheck && !summary.best.recheck.still_better) lines.push(colors.yellow(`re-check: incumbent #${summary.best.trial} ${terminalLine(summary.best.recheck.reason)}`));
  }
  if (summary.acceptance) lines.push(`acceptance ${summary.acceptance}`);
  if (summary.spend_usd > 0) lines.push(`LLM spend $${summary.spend_usd.toFixed(summary.spend_usd < 1 ? 4 : 2)}`);
  lines.push('');
  // Validation and the sealed holdout side by side, with the gap, wherever a holdout was measured.
  const holdout = options.shown?.holdout ?? summary.trials.some((trial) => trial.holdout !== null);
  const secondary = summary.study.secondary;
  const columns = 7 + (holdout ? 1 : 0) + secondary.length;
  const shown = options.shown?.lines ?? statusLines(summary.trials, summary.best?.trial ?? null, { all: Boolean(options.all) });
  const total = options.shown?.total ?? summary.trials.length;
  const row = (trial: TrialRow) => [
    `#${trial.seq}`,
    REPEAT_ROLES.includes(trial.role) && trial.status === 'discard' ? colors.dim('repeat') : statusColor(trial.status, colors),
    formatMetric(trial.metric),
    ...(holdout ? [trial.holdout === null ? '' : `${formatMetric(trial.holdout)} (${formatMetric(trial.metric === null ? null : trial.holdout - trial.metric)})`] : []),
    ...secondary.map((name) => formatMetric(trial.metrics?.[name] ?? null)),
    trial.delta === null ? '' : `${trial.delta > 0 ? '+' : ''}${formatMetric(trial.delta)}`,
    trial.duration_s === null ? '-' : formatDuration(trial.duration_s * 1000),
    trial.proposer,
    truncate(terminalLine(trial.description + (trial.status === 'keep' || trial.status === 'discard' || !trial.reason ? '' : ` (${trial.reason})`)), 80),
  ];
  const rows = shown.map((line) => ('trial' in line ? row(line.trial) : ['⋮', colors.dim(`${line.hidden} more`), ...Array<string>(columns - 2).fill('')]));
  lines.push(
    renderTable(
      ['trial', 'status', summary.study.metric, ...(holdout ? ['holdout (gap)'] : []), ...secondary, 'delta', 'time', 'proposer', 'description'],
      rows,
      ['right', 'left', 'right', ...(holdout ? (['right'] as const) : []), ...secondary.map(() => 'right' as const), 'right', 'right', 'left', 'left'],
    ),
  );
  const hidden = shown.reduce((sum, line) => sum + ('hidden' in line ? line.hidden : 0), 0);
  if (hidden > 0) {
    const steps = options.shown?.lineageSteps ?? lineage(summary.trials, summary.best?.trial ?? null).length;
    const of = steps > STATUS_LINEAGE_ROWS + 1 ? ` (the baseline and the newest ${STATUS_LINEAGE_ROWS} of its ${steps} steps)` : '';
    lines.push(colors.dim(`${total - hidden} of ${total} trials: the best's lineage${of} and the last ${STATUS_LAST_ROWS}; strata status --all lists every one`));
  }
  // Which trials saw which program and notes: each change, the newest few (--json has every one).
  const changes = summary.guidance_changes;
  for (const change of changes.slice(-GUIDANCE_LINES)) lines.push(terminalLine(describeGuidanceChange(change)));
  if (changes.length > GUIDANCE_LINES) lines.push(colors.dim(`the newest ${GUIDANCE_LINES} of ${changes.length} changes of the program and notes; strata status --json lists every one`));
  for (const running of summary.running) {
    if (running.decision_pending) {
      const when = summary.study.state === 'running' ? 'being decided' : 'decision pending: it resumes when the study runs again';
      lines.push(colors.yellow(`measured #${running.seq}: ${summary.study.metric}=${running.metric ?? '-'} · ${when} · ${terminalLine(running.description)}`));
      continue;
    }
    lines.push(colors.yellow(`running #${running.seq}: ${formatDuration((running.elapsed_s ?? 0) * 1000)} of ${formatDuration((running.budget_s ?? 0) * 1000)} · ${terminalLine(running.description)}`));
  }
  return lines.join('\n');
}
