import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { StudyStateError, UsageError } from '../../core/errors.ts';
import { LedgerReader } from '../../ledger/ledger-reader.ts';
import { renderReportHtml } from '../../dashboard/report/report-html.ts';
import { renderReportMarkdown } from '../../dashboard/report/report-markdown.ts';
import type { StudyRecord } from '../../ledger/records.ts';
import { ledgerPathFor as ledgerPathOf } from '../../workspace/state-dir.ts';
import { writeOutputFiles } from '../write-output.ts';

export interface ReportCommandOptions {
  cwd: string;
  /** The config whose `name:` picks the study when --study is not given. */
  config: string;
  study?: string;
  /** Output file; default report.html (report.md with --format md). */
  out?: string;
  format?: string;
  ledger?: string;
  stdout?: NodeJS.WritableStream;
}

/** The repository's ledger (`<repo>/.strata/ledger.db`), or the one --ledger names. */
export async function ledgerPathFor(cwd: string, ledger?: string): Promise<string> {
  if (ledger) return resolve(cwd, ledger);
  const path = ledgerPathOf(cwd);
  if (!existsSync(path)) throw new StudyStateError(`no ledger at ${path}: run \`strata research\` (or \`strata evolve\`) here first, or pass --ledger <file>`);
  return path;
}

/**
 * The study a command means: --study, else the `name:` of the config file
 * when there is one, else the ledger's only study.
 */
export function pickStudy(reader: LedgerReader, options: { cwd: string; config: string; study?: string }): StudyRecord {
  const studies = reader.studies();
  const known = studies.length ? `; studies in the ledger: ${studies.map((s) => s.name).join(', ')}` : '; the ledger has no study yet';
  let name = options.study;
  const configPath = resolve(options.cwd, options.config);
  if (name === undefined && existsSync(configPath)) {
    const parsed = parseYaml(readFileSync(configPath, 'utf8')) as { name?: unknown } | null;
    if (typeof parsed?.name === 'string') name = parsed.name;
  }
  if (name === undefined) {
    if (studies.length === 1) return studies[0]!;
    throw new StudyStateError(`which study? pass --study NAME${known}`);
  }
  const study = reader.studyByName(name);
  if (!study) throw new StudyStateError(`no study "${name}" in ${reader.path}${known}`, { study: name });
  return study;
}

/**
 * `strata report`: one self-contained HTML file (or Markdown plus SVG files
 * with --format md) with the study's charts and tables.
 */
export async function reportCommand(options: ReportCommandOptions): Promise<number> {
  const format = options.format ?? 'html';
  if (format !== 'html' && format !== 'md') throw new UsageError(`--format must be html or md, got ${JSON.stringify(format)}`, { format });
  const out = resolve(options.cwd, options.out ?? (format === 'md' ? 'report.md' : 'report.html'));
  const reader = LedgerReader.open(await ledgerPathFor(options.cwd, options.ledger));
  try {
    const study = pickStudy(reader, options);
    const files: { path: string; content: string }[] = [];
    if (format === 'html') {
      files.push({ path: out, content: renderReportHtml(reader, study) });
    } else {
      const report = renderReportMarkdown(reader, study, basename(out, extname(out)));
      files.push({ path: out, content: report.markdown });
      for (const [name, svg] of Object.entries(report.files)) files.push({ path: join(dirname(out), name), content: svg });
    }
    writeOutputFiles(files, '--out');
    (options.stdout ?? process.stdout).write(`wrote the ${study.name} report: ${files.map((file) => file.path).join(', ')}\n`);
    return 0;
  } finally {
    reader.close();
  }
}
