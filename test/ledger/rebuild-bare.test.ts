/**
 * Replaying a ledger needs nothing but src/ledger/: this file imports no loop,
 * so any event whose projection were registered by a loop module would fail
 * here ("no projection registered for ledger event study.acceptance_chosen"
 * before the events were declared statically).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { rebuildLedger } from '../../src/ledger/rebuild.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'ledgers');

/** A copy of a fixture ledger (opening one migrates it in place). */
function copyFixture(name: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'strata-fixture-')), name);
  copyFileSync(join(fixtures, name), path);
  return path;
}

function rows(path: string, table: string): unknown[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
  } finally {
    db.close();
  }
}

describe('rebuildLedger from a bare entry point', () => {
  for (const name of ['research.db', 'evolve.db', 'pipeline.db']) {
    it(`replays the previous release's ${name} into the same trials, candidates, evaluations, model calls and holdout results`, () => {
      const path = copyFixture(name);
      const target = join(mkdtempSync(join(tmpdir(), 'strata-rebuilt-')), 'rebuilt.db');
      const ledger = Ledger.open(path);
      rebuildLedger(ledger, target).close();
      ledger.close();
      for (const table of ['trials', 'candidates', 'evaluations', 'llm_calls', 'holdout_results']) {
        expect(rows(target, table), table).toEqual(rows(path, table));
      }
      expect(rows(path, 'events').length).toBeGreaterThan(10);
    });
  }
});
