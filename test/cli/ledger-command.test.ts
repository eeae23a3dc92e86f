import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerCheckResult } from '../../src/ledger/ledger-check.ts';
import { sqlRun } from '../helpers/ledger-sql.ts';
import { gitIn } from '../helpers/study-repo.ts';

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const strata = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });

/** A repository whose .strata/ledger.db is a copy of a fixture ledger. */
function repoWith(fixture: string): { repo: string; ledger: string } {
  const repo = mkdtempSync(join(tmpdir(), 'strata-ledger-cli-'));
  gitIn(repo, 'init', '-q', '-b', 'main');
  mkdirSync(join(repo, '.strata'));
  const ledger = join(repo, '.strata', 'ledger.db');
  copyFileSync(join(import.meta.dirname, '..', 'fixtures', 'ledgers', fixture), ledger);
  return { repo, ledger };
}

describe('strata ledger check', () => {
  it('prints ok with the counts of every state table for a ledger of the previous release (migrated first)', () => {
    const { repo } = repoWith('pipeline.db');
    const result = strata(repo, 'ledger', 'check');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ok: 183 events replay into the same state tables \(studies 7, trials 15, candidates 2, evaluations 6, llm_calls 27, holdout_results 0\)/);
  });

  it('names the first differences (table, row, column, live and replayed) and exits 1 when a table was written around the event log', () => {
    const { repo, ledger } = repoWith('research.db');
    strata(repo, 'ledger', 'check');
    sqlRun(ledger, "UPDATE trials SET status = 'keep', metric = 0.1 WHERE id = 6");
    sqlRun(ledger, 'DELETE FROM holdout_results WHERE trial_id = 7');
    // Who holds a study is a lease, not history: the check leaves it out.
    sqlRun(ledger, "UPDATE studies SET owner_pid = 4242, owner_host = 'elsewhere', heartbeat_at = '2026-01-01T00:00:00Z'");
    const text = strata(repo, 'ledger', 'check', '--ledger', '.strata/ledger.db');
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('ledger check failed');
    expect(text.stdout).toContain('trials #6 status: live "keep", replayed "discard"');
    expect(text.stdout).toMatch(/trials #6 metric: live 0\.1, replayed 7\.127/);
    expect(text.stdout).toContain('holdout_results #7 (row): live missing, replayed present');
    expect(text.stdout).not.toContain('owner_pid');

    const json = strata(repo, 'ledger', 'check', '--json');
    expect(json.status).toBe(1);
    const result = JSON.parse(json.stdout) as LedgerCheckResult;
    expect(result).toMatchObject({ ok: false, events: 39, ignored: { studies: ['owner_pid', 'owner_host', 'heartbeat_at'] } });
    expect(result.differences).toEqual([
      { table: 'trials', rowId: 6, column: 'status', live: 'keep', replayed: 'discard' },
      expect.objectContaining({ table: 'trials', rowId: 6, column: 'metric', live: 0.1 }),
      { table: 'holdout_results', rowId: 7, column: '(row)', live: 'missing', replayed: 'present' },
    ]);
  });

  it('shows a differing value a proposer wrote as text, and --json escapes what a terminal would act on', () => {
    const { repo, ledger } = repoWith('research.db');
    strata(repo, 'ledger', 'check');
    // ESC ] 0 ; … BEL (a window title), CSI 2 J (clear the screen) in 8-bit form, a right-to-left override.
    sqlRun(ledger, "UPDATE trials SET description = 'lower lr' || char(27) || ']0;owned' || char(7) || char(155) || '2J' || char(8238) || 'evil' WHERE id = 6");
    const actedOn = (text: string) => text.match(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g) ?? [];
    const text = strata(repo, 'ledger', 'check');
    expect(text.stdout).toContain('trials #6 description: live "lower lr');
    expect(actedOn(text.stdout)).toEqual([]);
    const json = strata(repo, 'ledger', 'check', '--json');
    expect(actedOn(json.stdout)).toEqual([]);
    const result = JSON.parse(json.stdout) as LedgerCheckResult;
    expect(result.differences).toContainEqual(expect.objectContaining({ table: 'trials', rowId: 6, column: 'description', live: 'lower lr\x1b]0;owned\x07\x9b2J\u202eevil' }));
  });

  it('says where no ledger is', () => {
    const repo = mkdtempSync(join(tmpdir(), 'strata-no-ledger-'));
    const result = strata(repo, 'ledger', 'check');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^strata ledger: no ledger at .*ledger\.db: run a study here first, or pass --ledger <file>\n$/);
  });
});
