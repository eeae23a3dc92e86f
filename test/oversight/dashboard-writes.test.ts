import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../../src/dashboard/server/dashboard-app.ts';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function dashboard() {
  const path = join(mkdtempSync(join(tmpdir(), 'strata-dash-')), 'ledger.db');
  const ledger = Ledger.open(path);
  ledger.record('study.created', { studyId: 1, name: 'night', kind: 'research', config: {}, configHash: 'h', branch: 'strata/night', baseCommit: 'a'.repeat(40) }, { studyId: 1 });
  ledger.record('study.state_changed', { studyId: 1, state: 'paused', reason: 'stopped by the user', cause: 'user' }, { studyId: 1 });
  ledger.close();
  const reader = LedgerReader.open(path);
  const { app, close } = createDashboardApp({ reader, token: null, writeToken: 'w-token' });
  closers.push(close, () => reader.close());
  return { app, path };
}

const post = (body: unknown, headers: Record<string, string>) => ({ method: 'POST', body: JSON.stringify(body), headers: { host: '127.0.0.1:4040', 'content-type': 'application/json', ...headers } });

describe('dashboard write endpoints', () => {
  it('refuse a missing or wrong token, a token in a cookie, a foreign or opaque Origin, and a body that is not JSON', async () => {
    const { app, path } = dashboard();
    const url = 'http://127.0.0.1:4040/api/studies/1/oversight/note';
    const statuses = await Promise.all([
      app.request(url, post({ text: 'x' }, {})),
      app.request(url, post({ text: 'x' }, { 'x-strata-write-token': 'wrong' })),
      app.request(url, post({ text: 'x' }, { cookie: 'strata_token=w-token' })),
      app.request(url, post({ text: 'x' }, { 'x-strata-write-token': 'w-token', origin: 'http://evil.example' })),
      app.request(url, post({ text: 'x' }, { 'x-strata-write-token': 'w-token', origin: 'null' })),
      app.request(url, { method: 'POST', body: 'text=x', headers: { host: '127.0.0.1:4040', 'x-strata-write-token': 'w-token', 'content-type': 'application/x-www-form-urlencoded' } }),
    ]).then((responses) => responses.map((response) => response.status));
    expect(statuses).toEqual([401, 401, 401, 403, 403, 415]);
    const ledger = Ledger.open(path);
    expect(ledger.oversight.notes(1)).toEqual([]);
    ledger.close();
  });

  it('with the token in its header and its own Origin, adds a note as a dashboard event; control of a study that is not running is refused', async () => {
    const { app, path } = dashboard();
    const session = await app.request('http://127.0.0.1:4040/api/session', { headers: { host: '127.0.0.1:4040' } });
    expect(session.headers.get('cache-control')).toBe('no-store');
    const { writeToken } = (await session.json()) as { writeToken: string };
    const headers = { 'x-strata-write-token': writeToken, origin: 'http://127.0.0.1:4040' };
    const added = await app.request('http://127.0.0.1:4040/api/studies/1/oversight/note', post({ text: '<img src=x onerror=alert(1)> keep the tokenizer', author: 'ada' }, headers));
    expect(added.status).toBe(200);
    expect(((await added.json()) as { note: { id: number; source: string } }).note).toMatchObject({ id: 1, source: 'dashboard', author: 'ada' });
    const pause = await app.request('http://127.0.0.1:4040/api/studies/1/oversight/pause', post({}, headers));
    expect(pause.status).toBe(409);
    expect(((await pause.json()) as { error: string }).error).toMatch(/study night is not running \(it is paused\); resume it with strata resume/);
    const retire = await app.request('http://127.0.0.1:4040/api/studies/1/oversight/retire-note', post({ note: 9 }, headers));
    expect(retire.status).toBe(400);
    expect(((await retire.json()) as { error: string }).error).toMatch(/no note 9/);
    // Other writes stay refused.
    expect((await app.request('http://127.0.0.1:4040/api/studies/1', { method: 'DELETE', headers: { host: '127.0.0.1:4040' } })).status).toBe(405);
    const ledger = Ledger.open(path);
    expect(ledger.oversight.notes(1).map((note) => note.text)).toEqual(['<img src=x onerror=alert(1)> keep the tokenizer']);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  });
});
