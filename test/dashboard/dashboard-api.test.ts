import { copyFileSync, mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { createDashboardApp } from '../../src/dashboard/server/dashboard-app.ts';
import { startDashboard } from '../../src/dashboard/start-dashboard.ts';
import type { ResearchView } from '../../src/dashboard/views/research-view.ts';
import type { ResearchSummaryView, ResearchTrialPage } from '../../src/dashboard/views/research-summary-view.ts';
import type { StudyListItem } from '../../src/dashboard/views/study-list-view.ts';
import type { TrialDetailView } from '../../src/dashboard/views/trial-view.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { HOSTILE_DESCRIPTION, researchFixture, type ResearchFixture } from './research-fixture.ts';

let scripted: ResearchFixture;
let search: ResearchFixture;
let reader: LedgerReader;
let dashboard: ReturnType<typeof createDashboardApp>;

/** A plain HTTP GET with any Host header (fetch will not let a test forge one). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  // Two real studies in one repository's ledger: scripted code edits (keeps, discards, a crash,
  // a timeout, a hostile description, LLM costs) and the search proposer.
  scripted = await researchFixture({ maxTrials: 9 });
  search = await researchFixture({ maxTrials: 4, proposer: 'search' });
  reader = LedgerReader.open(scripted.ledgerPath);
  dashboard = createDashboardApp({ reader, token: null, pollMs: 100 });
}, 120_000);

afterAll(() => {
  dashboard?.close();
  reader?.close();
});

const get = async <T>(path: string): Promise<T> => {
  const response = await dashboard.app.request(path);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
};

describe('dashboard API over a real study', () => {
  it('lists the studies with their headline numbers', async () => {
    const studies = await get<StudyListItem[]>('/api/studies');
    expect(studies.map((s) => s.name)).toEqual(['tiny-agent']);
    const [study] = studies;
    expect(study).toMatchObject({ kind: 'research', state: 'done', size: 9, metric: { name: 'loss', goal: 'minimize' } });
    expect(study!.best).toBeLessThan(study!.baseline!);
    expect(study!.improvement_pct).toBeGreaterThan(0);
    expect(study!.usd).toBeCloseTo(0.0009 * 8 + 0.0001 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8), 6);
  });

  it('gives the research page: every trial, one chart point each, the running best, duty cycle and spend', async () => {
    const view = await get<ResearchView>('/api/studies/1');
    expect(view.trials.map((t) => t.status)).toEqual(['keep', 'keep', 'keep', 'discard', 'crash', 'discard', 'keep', 'discard', 'timeout']);
    expect(view.progress.points).toBe(view.trials.length);
    expect(view.progress.failed.filter((v) => v !== null)).toHaveLength(2);
    // The running best only moves at kept trials and never gets worse.
    const kept = view.trials.filter((t) => t.status === 'keep').map((t) => t.metric);
    expect(view.progress.best.at(-1)).toBe(kept.at(-1));
    for (let i = 1; i < view.progress.best.length; i++) expect(view.progress.best[i]!).toBeLessThanOrEqual(view.progress.best[i - 1]!);
    expect(view.best?.seq).toBe(6);
    expect(view.baseline?.seq).toBe(0);
    expect(view.trials.find((t) => t.seq === 5)?.description).toBe(HOSTILE_DESCRIPTION);
    expect(view.duty!.fraction).toBeGreaterThan(0);
    expect(view.duty!.fraction).toBeLessThanOrEqual(1);
    expect(view.spend.calls).toBe(8);
    expect(view.trials.find((t) => t.seq === 3)).toMatchObject({ better: false, usd: expect.closeTo(0.0012, 6) });
    expect(view.has_holdout).toBe(false);
    expect(view.running).toEqual([]);
  });

  it('gives the summary the study page reads, as the whole view has it, and the table a page at a time', async () => {
    const view = await get<ResearchView>('/api/studies/1');
    const summary = await get<ResearchSummaryView>('/api/studies/1/summary?page=1&limit=4&sort=metric&order=asc');
    expect(summary).toMatchObject({ finished: 9, counts: view.counts, best: view.best, baseline: view.baseline, duty: view.duty, spend: view.spend, has_holdout: false });
    expect(summary.total_time_s).toBeCloseTo(view.total_time_s, 6);
    // A short study's chart is every trial, unthinned.
    expect(summary.progress).toMatchObject({ seq: view.progress.seq, kept: view.progress.kept, best: view.progress.best, failed: view.progress.failed, total: 9, thinned: false });
    // The table's page: sorted by the metric, trials without one last.
    expect(summary.table).toMatchObject({ total: 9, page: 1, pages: 3, limit: 4 });
    expect(summary.table!.trials.map((t) => t.seq)).toEqual(view.trials.filter((t) => t.metric !== null).sort((a, b) => a.metric! - b.metric!).slice(0, 4).map((t) => t.seq));
    const kept = await get<ResearchTrialPage>('/api/studies/1/trials?status=keep&limit=50');
    expect(kept.trials.map((t) => t.seq)).toEqual([6, 2, 1, 0]);
    const found = await get<ResearchTrialPage>(`/api/studies/1/trials?q=${encodeURIComponent('<script>')}`);
    expect(found.trials.map((t) => t.seq)).toEqual([5]);
    // After the cursor nothing changed: no chart, no points.
    const since = await get<ResearchSummaryView>(`/api/studies/1/summary?since=${summary.cursor}`);
    expect(since.progress).toBeNull();
    expect(since.progress_since).toEqual({ since: summary.cursor, points: [] });
  });

  it('refuses a malformed page query, naming what it takes', async () => {
    for (const [query, message] of [
      ['sort=colour', 'sort must be one of seq, status, metric, delta, holdout, proposer, description, duration_s, usd, not "colour"'],
      ['limit=0', 'limit must be a whole number from 1 to 500, not "0"'],
      ['page=-1', 'page must be a whole number from 1, not "-1"'],
      ['status=running', 'status must be all or one of keep, discard, crash, timeout, invalid, interrupted, not "running"'],
      ['order=up', 'order must be asc or desc, not "up"'],
    ]) {
      const response = await dashboard.app.request(`/api/studies/1/trials?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toEqual({ error: message });
    }
    const since = await dashboard.app.request('/api/studies/1/summary?since=yesterday');
    expect(since.status).toBe(400);
  });

  it("gives a trial's diff, log tail, model calls and neighbours", async () => {
    const detail = await get<TrialDetailView>('/api/studies/1/trials/2');
    expect(detail.diff).toContain('-const WIDTH = 32;');
    expect(detail.diff).toContain('+const WIDTH = 64;');
    expect(detail.log_tail).toContain('METRIC loss=');
    expect(detail.llm_calls).toHaveLength(1);
    expect(detail.llm_calls[0]).toMatchObject({ role: 'proposer', model: 'openai:gpt-4.1-mini', usd: expect.closeTo(0.0011, 6) });
    expect(detail.neighbors).toEqual({ previous: 1, next: 3 });
    expect(detail.trial.meta).toMatchObject({ acceptance: { rule: 'strict' } });
    const crash = await get<TrialDetailView>('/api/studies/1/trials/4');
    expect(crash.trial.status).toBe('crash');
    expect(crash.log_tail).toContain('CUDA out of memory');
  });

  it('serves the full log as sandboxed plain text', async () => {
    const response = await dashboard.app.request('/api/studies/1/trials/4/log');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain('sandbox');
    expect(await response.text()).toMatch(/step 100 loss[\s\S]*CUDA out of memory/);
  });

  it('answers the search-proposer study too', async () => {
    const other = LedgerReader.open(search.ledgerPath);
    const app = createDashboardApp({ reader: other, token: null });
    try {
      const view = (await (await app.app.request('/api/studies/1')).json()) as ResearchView;
      expect(view.trials).toHaveLength(4);
      expect(view.trials.slice(1).every((t) => t.proposer === 'search/random' && t.description.startsWith('search: x='))).toBe(true);
      expect(view.progress.points).toBe(4);
      const trial = (await (await app.app.request('/api/studies/1/trials/1')).json()) as TrialDetailView;
      expect(trial.diff).toContain('strata.params.json');
      expect(trial.trial.params).toHaveProperty('x');
    } finally {
      app.close();
      other.close();
    }
  });

  it('is read-only, sends a strict CSP, and says what is missing', async () => {
    const page = await dashboard.app.request('/study/1');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await page.text()).includes('<script>')).toBe(false);
    expect((await dashboard.app.request('/api/studies', { method: 'POST' })).status).toBe(405);
    expect((await dashboard.app.request('/api/studies/99')).status).toBe(404);
    expect(await (await dashboard.app.request('/api/studies/1/trials/99')).json()).toEqual({ error: 'study tiny-agent has no trial #99' });
    expect((await dashboard.app.request('/assets/../../package.json')).status).toBe(404);
    expect((await dashboard.app.request('/assets/vendor/uPlot.iife.min.js')).headers.get('content-type')).toContain('javascript');
  });

  it('never serves a log file outside the ledger folder, whatever the ledger says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-tampered-'));
    copyFileSync(scripted.ledgerPath, join(dir, 'ledger.db'));
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.prepare('UPDATE trials SET log_path = ? WHERE seq = 2').run('/etc/passwd');
    db.close();
    const tampered = LedgerReader.open(join(dir, 'ledger.db'));
    const app = createDashboardApp({ reader: tampered, token: null });
    try {
      const response = await app.app.request('/api/studies/1/trials/2/log');
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('root:');
    } finally {
      app.close();
      tampered.close();
    }
  });
});

describe('integrity details, when the ledger has them', () => {
  it('shows holdout beside validation and flags suspect keeps and failed re-checks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-holdout-'));
    copyFileSync(scripted.ledgerPath, join(dir, 'ledger.db'));
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    // The integrity layer's table (migration 2) and meta fields, written as it writes them.
    db.exec(`CREATE TABLE IF NOT EXISTS holdout_results (trial_id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL, status TEXT NOT NULL, metric REAL,
      metrics_json TEXT, reason TEXT, wall_ms INTEGER, log_path TEXT, created_at TEXT NOT NULL)`);
    const trialId = (seq: number) => Number((db.prepare('SELECT id FROM trials WHERE seq = ?').get(seq) as { id: number }).id);
    const insert = db.prepare("INSERT INTO holdout_results (trial_id, study_id, status, metric, reason, created_at) VALUES (?, 1, ?, ?, ?, '2026-01-01T00:00:00Z')");
    insert.run(trialId(0), 'measured', 2.41, null);
    insert.run(trialId(2), 'measured', 2.2, null);
    insert.run(trialId(6), 'timeout', null, 'killed at 30s');
    db.prepare(`UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.recheck', json(?)) WHERE seq = 1`).run(JSON.stringify({ stillBetter: false, reason: 'rerun 2.37 vs 2.36' }));
    db.prepare(`UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.acceptance.suspect', ?) WHERE seq = 2`).run('jumped 3x past the incumbent');
    db.close();
    const withIntegrity = LedgerReader.open(join(dir, 'ledger.db'));
    const app = createDashboardApp({ reader: withIntegrity, token: null });
    try {
      const view = (await (await app.app.request('/api/studies/1')).json()) as ResearchView;
      expect(view.has_holdout).toBe(true);
      expect(view.trials.map((t) => t.holdout)).toEqual([2.41, null, 2.2, null, null, null, null, null, null]);
      expect(view.progress.holdout.filter((v) => v !== null)).toEqual([2.41, 2.2]);
      expect(view.trials[1]!.flags).toEqual(['re-check: no longer beats its parent (rerun 2.37 vs 2.36)']);
      expect(view.trials[2]!.flags).toEqual(['suspect: jumped 3x past the incumbent']);
      expect(view.trials[6]!.flags).toEqual(['holdout timeout: killed at 30s']);
      const detail = (await (await app.app.request('/api/studies/1/trials/2')).json()) as TrialDetailView;
      expect(detail.trial.holdout).toBe(2.2);
      expect(detail.trial.meta).toMatchObject({ acceptance: { rule: 'strict', suspect: 'jumped 3x past the incumbent' } });
    } finally {
      app.close();
      withIntegrity.close();
    }
  });
});

describe('the served dashboard', () => {
  it('refuses, when bound beyond loopback, every request without the token', async () => {
    const served = await startDashboard({ ledgerPath: scripted.ledgerPath, host: '0.0.0.0', port: 0, token: 'test-token-123' });
    try {
      const base = `http://127.0.0.1:${served.port}`;
      expect(served.url).toContain('?token=test-token-123');
      for (const path of ['/', '/api/studies', '/api/live', '/assets/app.js']) expect((await fetch(base + path)).status, path).toBe(401);
      expect((await fetch(`${base}/api/studies`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${base}/api/studies`, { headers: { Authorization: 'Bearer test-token-123' } })).status).toBe(200);
      const entry = await fetch(`${base}/study/1?token=test-token-123`, { redirect: 'manual' });
      expect(entry.status).toBe(302);
      expect(entry.headers.get('location')).toBe('/study/1');
      const cookie = entry.headers.get('set-cookie')!;
      expect(cookie).toMatch(/strata_token=test-token-123;.*HttpOnly/i);
      expect((await fetch(`${base}/api/studies`, { headers: { Cookie: cookie.split(';')[0]! } })).status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it('generates a token (or takes STRATA_TOKEN) for a non-loopback address, none for loopback', async () => {
    const generated = await startDashboard({ ledgerPath: scripted.ledgerPath, host: '0.0.0.0', port: 0 });
    const loopback = await startDashboard({ ledgerPath: scripted.ledgerPath, port: 0 });
    try {
      expect(generated.token).toMatch(/^[\w-]{24,}$/);
      expect(loopback.token).toBeNull();
      expect(loopback.url).toBe(`http://127.0.0.1:${loopback.port}/`);
      expect((await fetch(`${loopback.url}api/studies`)).status).toBe(200);
      // On loopback, a foreign Host header (DNS rebinding) is refused.
      expect((await rawGet(`${loopback.url}api/studies`, { Host: 'attacker.example' })).status).toBe(403);
    } finally {
      await generated.close();
      await loopback.close();
    }
  });

  it('pushes a change event when a study writes to the ledger', async () => {
    const served = await startDashboard({ ledgerPath: scripted.ledgerPath, port: 0, pollMs: 100 });
    const controller = new AbortController();
    try {
      const response = await fetch(`${served.url}api/live`, { signal: controller.signal });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const stream = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('event: hello')) text += (await stream.read()).value ?? '';
      const ledger = Ledger.open(scripted.ledgerPath);
      const study = ledger.studyByName(scripted.studyName)!;
      ledger.record('study.state_changed', { studyId: study.id, state: 'done', reason: 'touched by the test' }, { studyId: study.id });
      ledger.close();
      while (!text.includes('event: change')) text += (await stream.read()).value ?? '';
      expect(text).toMatch(/event: change\ndata: \d+:\d+/);
    } finally {
      controller.abort();
      await served.close();
    }
  });
});
