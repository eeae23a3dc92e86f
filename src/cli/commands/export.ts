import { UsageError } from '../../core/errors.ts';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import { summarizeStudy, type TrialRow } from '../../research/study-summary.ts';
import { openStudyForReading } from './status.ts';

export interface ExportCommandOptions {
  config: string;
  cwd: string;
  study?: string;
  format: string;
  out?: NodeJS.WritableStream;
}

/**
 * `strata export --format tsv|jsonl`: tsv has autoresearch's columns
 * (commit, <metric>, memory_gb, status, description) plus trial and duration_s;
 * jsonl has every field of every trial.
 */
export async function exportCommand(options: ExportCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  if (options.format !== 'tsv' && options.format !== 'jsonl') {
    throw new UsageError(`--format must be tsv (autoresearch's columns) or jsonl (every field), got ${JSON.stringify(options.format)}`, { format: options.format });
  }
  const { ledger, study } = await openStudyForReading(options);
  try {
    if (options.format === 'jsonl') {
      // Every field as recorded; what a terminal would act on is escaped, so `strata export | less` shows it as text.
      for (const trial of ledger.trials(study.id)) out.write(`${safeJson(trial)}\n`);
      return 0;
    }
    const summary = summarizeStudy(ledger, study);
    // One line per trial, tab-separated: control sequences dropped, tabs and newlines made spaces.
    const clean = (text: string) => terminalLine(text);
    out.write(['commit', summary.study.metric, 'memory_gb', 'status', 'description', 'trial', 'duration_s'].join('\t') + '\n');
    for (const trial of summary.trials) {
      out.write(
        [
          trial.commit?.slice(0, 7) ?? '',
          trial.metric === null ? '0.000000' : trial.metric.toFixed(6),
          memoryGb(trial).toFixed(1),
          trial.status,
          clean(trial.description),
          String(trial.seq),
          trial.duration_s === null ? '' : trial.duration_s.toFixed(1),
        ].join('\t') + '\n',
      );
    }
    return 0;
  } finally {
    ledger.close();
  }
}

/** autoresearch's memory_gb: its own column (imported runs), else peak_vram_mb / 1024 (a secondary metric), else the process's peak RSS. */
function memoryGb(trial: TrialRow): number {
  const metrics = trial.metrics ?? {};
  if (metrics.memory_gb !== undefined) return metrics.memory_gb;
  if (metrics.peak_vram_mb !== undefined) return metrics.peak_vram_mb / 1024;
  return trial.peak_memory_mb === null ? 0 : trial.peak_memory_mb / 1024;
}
