import type { StudyRecord } from '../../ledger/records.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { h, render, trusted } from '../render/markup.ts';
import { evolveView } from '../views/evolve-view.ts';
import { evolveReportBody } from './report-evolve.ts';
import { badge } from './report-parts.ts';
import { researchReportBody, researchReportData } from './report-research.ts';
import { REPORT_CSS } from './report-styles.ts';

/**
 * No scripts, no network: styles inline, figures as inline SVG. The policy
 * holds even if a browser opens the file from a hostile place.
 */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/**
 * One self-contained HTML file with a study's charts and tables, for sharing
 * or a paper's appendix. Every text from the ledger is escaped.
 *
 * @example
 * writeFileSync('report.html', renderReportHtml(reader, reader.studyByName('tiny-lm')!));
 */
export function renderReportHtml(reader: LedgerReader, study: StudyRecord, now = new Date()): string {
  const body =
    study.kind === 'evolve'
      ? evolveReportBody(evolveView(reader, study, now.getTime()), new Map(reader.candidates(study.id).map((c) => [c.idx, c.components ?? {}])))
      : (({ view, diffs, verify }) => researchReportBody(view, diffs, verify))(researchReportData(reader, study, now.getTime()));
  const page = h(
    'html',
    { lang: 'en' },
    h(
      'head',
      null,
      h('meta', { charset: 'utf-8' }),
      h('meta', { 'http-equiv': 'Content-Security-Policy', content: REPORT_CSP }),
      h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      h('meta', { name: 'generator', content: 'strata report' }),
      h('title', null, `${study.name} · strata report`),
      h('style', null, trusted(REPORT_CSS)),
    ),
    h(
      'body',
      null,
      h(
        'main',
        null,
        h('h1', null, study.name, ' ', badge(study.state)),
        h(
          'p',
          { class: 'sub' },
          `${study.kind} study`,
          study.stopReason ? ` · ${study.stopReason}` : '',
          study.branch ? [' · branch ', h('code', null, study.branch)] : '',
          ` · started ${study.createdAt.replace('T', ' ').slice(0, 16)} UTC`,
        ),
        body,
        h('footer', null, `Written by strata report on ${now.toISOString().replace('T', ' ').slice(0, 16)} UTC. A snapshot: run \`strata serve\` for the live dashboard.`),
      ),
    ),
  );
  return `<!doctype html>\n${render(page)}\n`;
}
