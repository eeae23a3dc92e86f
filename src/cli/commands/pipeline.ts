import { formatDuration } from '../../core/duration.ts';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import { comparePlainResearch, type PipelineComparison } from '../../pipeline/compare-plain.ts';
import { normalizePipeline, type PipelineConfig } from '../../pipeline/pipeline-config.ts';
import type { PipelineObserver } from '../../pipeline/pipeline-observer.ts';
import { readPipelineSummary, type PipelineStageSummary, type PipelineSummary } from '../../pipeline/pipeline-summary.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { createEvolveReporter } from '../evolve-reporter.ts';
import { formatMetric, palette, type Palette } from '../format.ts';
import { loadConfig } from '../load-config.ts';
import { createResearchReporter } from '../research-reporter.ts';
import { renderTable, truncate } from '../table.ts';

export interface PipelineCommandOptions {
  config: string;
  cwd: string;
  json?: boolean;
  /** After the pipeline, run plain research for the same number of trials and put both side by side. */
  compare?: boolean;
  signal?: AbortSignal;
  out?: NodeJS.WritableStream;
  /** Environment for model keys (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * `strata pipeline [--config strata.yaml] [--compare] [--json]`: run or
 * resume the pipeline's stages in order, print each stage's progress and the
 * stages at the end; with --compare, then run plain research with the
 * top-level research section for the same number of trials and print both.
 * Exit code 0 when it ended or paused, 1 when a stage failed, 130 after Ctrl-C.
 */
export async function pipelineCommand(options: PipelineCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { path, config } = loadConfig(options.config, options.cwd, 'pipeline');
  const pipeline = normalizePipeline(config, path);
  if (!options.json) for (const note of config.notes ?? []) out.write(`${palette(out).dim(`note: ${note}`)}\n`);
  const reporter = options.json ? undefined : createPipelineReporter(out, pipeline);
  let summary = await runPipeline({
    pipeline,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(reporter ? { observer: reporter } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  let comparison: PipelineComparison | undefined;
  if (options.compare && summary.pipeline.state === 'done' && !options.signal?.aborted) {
    const research = pipeline.config.research!;
    const plainReporter = options.json ? undefined : createResearchReporter(out, { goal: research.metric.goal, metric: research.metric.name });
    try {
      if (!options.json) out.write(`\n${palette(out).bold('compare')}: plain research with the top-level research section, ${summary.totals.trials} trials (what the pipeline spent)\n`);
      comparison = await comparePlainResearch({ pipeline, ...(options.signal ? { signal: options.signal } : {}), ...(plainReporter ? { observer: plainReporter } : {}) });
    } finally {
      plainReporter?.close();
    }
    summary = readPipelineSummary(path, pipeline.name) ?? summary;
  }
  if (options.json) out.write(`${safeJson({ ...summary, ...(comparison ? { comparison } : {}) }, 2)}\n`);
  else {
    out.write(`\n${renderPipelineStatus(summary, out)}\n`);
    if (comparison) out.write(`\n${renderComparison(comparison, out)}\n`);
  }
  if (options.signal?.aborted) return 130;
  return summary.pipeline.state === 'failed' ? 1 : 0;
}

/** Terminal lines for a running pipeline: a header per stage, the loop's own lines inside it, one line per research evaluation. */
export function createPipelineReporter(out: NodeJS.WritableStream, pipeline: PipelineConfig): PipelineObserver {
  const colors = palette(out);
  const print = (line: string) => out.write(`${line}\n`);
  let closeResearch: (() => void) | undefined;
  const observer: PipelineObserver = {
    pipelineStarted(info) {
      print(colors.bold(`strata pipeline · ${info.name}`) + colors.dim(`  (${info.resumed ? 'resumed' : 'new pipeline'}, from ${info.startCommit.slice(0, 8)})`));
      print(`  stages: ${info.stages.map((stage) => `${stage.name} (${stage.kind}${stage.state ? `, ${stage.state}` : ''})`).join(' → ')}`);
    },
    stageSkipped(info) {
      print(colors.dim(`stage ${info.stage}: done earlier; ${describeBest(info.best)}`));
    },
    stageStarted(info) {
      print('');
      print(colors.bold(`stage ${info.stage}`) + `  ${info.kind} · study ${info.study}${info.resumed ? colors.dim(' (resumed)') : ''}`);
      const started = info.started;
      print(`  starts from ${started.baseCommit.slice(0, 8)}${started.baseCommit !== started.startCommit ? ` (hand-off on ${started.startCommit.slice(0, 8)})` : ''}`);
      if (started.handoff) print(`  hand-off from ${started.handoff.from}: ${Object.entries(started.handoff.files).map(([component, file]) => `${component} → ${file}`).join(', ')}`);
      // The value is an earlier stage's output (a model's prompt, its first line): text, never sequences for the terminal.
      for (const input of started.inputs) print(`  ${input.reference} = ${terminalLine(input.file ? `${input.file} (${input.value})` : input.value)}`);
      if (info.kind === 'research') {
        const section = pipeline.stages.find((stage) => stage.name === info.stage)?.section as { metric?: { name: string; goal: 'minimize' | 'maximize' } } | undefined;
        const metric = section?.metric ?? pipeline.config.research!.metric;
        const reporter = createResearchReporter(out, { goal: metric.goal, metric: metric.name });
        observer.research = reporter;
        closeResearch = () => reporter.close();
      } else {
        const stage = pipeline.stages.find((candidate) => candidate.name === info.stage)!;
        const budget = (stage.section.budget ?? {}) as { metric_calls?: number; usd?: number };
        const evolve = createEvolveReporter(out, { study: info.study, metricCalls: budget.metric_calls ?? null, usd: budget.usd ?? null });
        observer.evolveProgress = (_stage, progress) => evolve(progress);
      }
    },
    evaluationStarted(info) {
      print(colors.dim(`    evaluating ${info.candidate} on ${info.example}${info.resumed ? ' (resumed)' : ''} · ${info.study}`));
    },
    evaluationFinished(info) {
      if (info.cached) return;
      print(`    ${info.candidate} on ${info.example}: score ${info.score.toFixed(4)} after ${info.trials} trials${info.state === 'done' ? '' : colors.yellow(` (${info.state})`)}`);
    },
    stageFinished(info) {
      closeResearch?.();
      closeResearch = undefined;
      delete observer.research;
      delete observer.evolveProgress;
      const state = info.state === 'done' ? colors.green(info.state) : colors.yellow(info.state);
      print(`stage ${info.stage} ${state}${info.reason ? colors.dim(` (${terminalLine(info.reason)})`) : ''}: ${info.best ? describeBest(info.best) : 'nothing found'} · ${info.spend.trials} trials · $${info.spend.usd.toFixed(4)}`);
    },
  };
  return observer;
}

function describeBest(best: NonNullable<PipelineStageSummary['best']>): string {
  if (best.score !== null) return `best score ${best.score.toFixed(4)} (seed ${best.baseline === null ? '-' : best.baseline.toFixed(4)})${best.commit ? ` · commit ${best.commit.slice(0, 8)}` : ''}`;
  return `best ${formatMetric(best.metric)} (baseline ${formatMetric(best.baseline)})${best.commit ? ` · ${best.commit.slice(0, 8)}` : ''}`;
}

/**
 * A pipeline at a glance (`strata status` on a pipeline file): its stages in
 * order with state, result, spend, and what each received from the ones before.
 */
export function renderPipelineStatus(summary: PipelineSummary, out: NodeJS.WritableStream): string {
  const colors = palette(out);
  const { pipeline, totals } = summary;
  const lines = [colors.bold(pipeline.name) + `  pipeline · ${pipeline.state}${pipeline.stop_reason ? ` (${terminalLine(pipeline.stop_reason)})` : ''}`];
  lines.push(
    `from ${pipeline.start_commit?.slice(0, 8) ?? '-'} · ${totals.trials} trials (${totals.runs} runs) · ${formatDuration(totals.trialSeconds * 1000)} of trial time · $${totals.usd.toFixed(4)}` +
      (totals.evaluations > 0 ? ` · ${totals.evaluations} research evaluations` : ''),
  );
  lines.push('');
  const rows = summary.stages.map((stage) => [
    stage.stage,
    stage.kind,
    stateColor(stage.state, colors),
    stageResult(stage),
    String(stage.spend.trials),
    formatDuration(stage.spend.trialSeconds * 1000),
    `$${stage.spend.usd.toFixed(4)}`,
    stage.study,
  ]);
  lines.push(renderTable(['stage', 'kind', 'state', 'result', 'trials', 'time', 'USD', 'study'], rows, ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'left']));
  for (const stage of summary.stages) {
    if (!stage.started) continue;
    const received: string[] = [];
    if (stage.started.handoff) {
      const files = Object.entries(stage.started.handoff.files).map(([component, file]) => `${component} → ${file}`).join(', ');
      received.push(`hand-off from ${stage.started.handoff.from}: ${files} (commit ${stage.started.handoff.commit.slice(0, 8)})`);
    }
    for (const input of stage.started.inputs) received.push(`${input.reference} = ${truncate(terminalLine(input.file ? `${input.value} → ${input.file}` : input.value), 100)}`);
    if (received.length > 0) lines.push('', `${stage.stage} received:`, ...received.map((line) => `  ${line}`));
  }
  if (summary.plain) {
    lines.push('', `compare: ${summary.plain.study} ${summary.plain.state}: ${summary.plain.best ? describeBest(summary.plain.best) : '-'} · ${summary.plain.spend.trials} trials`);
  }
  return lines.join('\n');
}

function stageResult(stage: PipelineStageSummary): string {
  const best = stage.best;
  if (!best) return '-';
  if (stage.kind === 'evolve') {
    const calls = stage.spend.metricCalls === null ? '' : ` · ${stage.spend.metricCalls} metric calls`;
    return `score ${best.score?.toFixed(4) ?? '-'} (seed ${best.baseline?.toFixed(4) ?? '-'})${calls}`;
  }
  const metric = stage.metric?.name ?? 'metric';
  const relative = best.metric !== null && best.baseline !== null && best.baseline !== 0 ? ` ${(((best.metric - best.baseline) / Math.abs(best.baseline)) * 100).toFixed(1)}%` : '';
  return `${metric} ${formatMetric(best.metric)} (baseline ${formatMetric(best.baseline)}${relative})`;
}

function stateColor(state: string, colors: Palette): string {
  return state === 'done' ? colors.green(state) : state === 'failed' ? colors.red(state) : state === 'pending' ? colors.dim(state) : colors.yellow(state);
}

/** Plain research and the pipeline side by side, for the same number of counted trials. */
export function renderComparison(comparison: PipelineComparison, out: NodeJS.WritableStream): string {
  const colors = palette(out);
  const row = (label: string, side: PipelineComparison['pipeline']) => [
    label,
    formatMetric(side.best),
    formatMetric(side.baseline),
    side.relative === null ? '-' : `${(side.relative * 100).toFixed(2)}%`,
    String(side.spend.trials),
    formatDuration(side.spend.trialSeconds * 1000),
    `$${side.spend.usd.toFixed(4)}`,
    side.study,
  ];
  const winner = comparison.winner === 'tie' ? 'neither is better' : `${comparison.winner} is better`;
  return [
    colors.bold(`did the outer loop pay for itself? ${winner}`) + ` (${comparison.goal} ${comparison.metric})`,
    `models: agent ${comparison.models.agent ?? '-'}${comparison.models.reflection.length > 0 ? ` · reflection ${comparison.models.reflection.join(', ')}` : ''}`,
    renderTable(
      ['run', `best ${comparison.metric}`, 'baseline', 'improvement', 'trials', 'time', 'USD', 'study'],
      [row('pipeline', comparison.pipeline), row('plain', comparison.plain)],
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  ].join('\n');
}

