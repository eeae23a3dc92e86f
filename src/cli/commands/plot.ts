import { resolve } from 'node:path';
import { LedgerReader } from '../../ledger/ledger-reader.ts';
import { scoreChartSvg } from '../../dashboard/render/score-chart-svg.ts';
import { researchProgressSvg, researchReportData } from '../../dashboard/report/report-research.ts';
import { evolveView } from '../../dashboard/views/evolve-view.ts';
import { writeOutputFiles } from '../write-output.ts';
import { ledgerPathFor, pickStudy } from './report.ts';

export interface PlotCommandOptions {
  cwd: string;
  config: string;
  study?: string;
  out?: string;
  ledger?: string;
  stdout?: NodeJS.WritableStream;
}

/**
 * `strata plot --out progress.svg`: the progress chart alone as SVG (for an
 * evolve study, best validation score against metric calls).
 */
export async function plotCommand(options: PlotCommandOptions): Promise<number> {
  const out = resolve(options.cwd, options.out ?? 'progress.svg');
  const reader = LedgerReader.open(await ledgerPathFor(options.cwd, options.ledger));
  try {
    const study = pickStudy(reader, options);
    const svg = study.kind === 'evolve' ? scoreChartSvg(evolveView(reader, study), study.name) : researchProgressSvg(researchReportData(reader, study).view);
    writeOutputFiles([{ path: out, content: `<?xml version="1.0" encoding="UTF-8"?>\n${svg.html}\n` }], '--out');
    (options.stdout ?? process.stdout).write(`wrote ${out}\n`);
    return 0;
  } finally {
    reader.close();
  }
}
