/**
 * Replaying a ledger needs nothing but src/ledger/: this file imports no loop,
 * so any event whose projection were registered by a loop module would fail
 * here ("no projection registered for ledger event study.acceptance_chosen"
 * before the events were declared statically). The ledgers are the previous
 * release's fixtures, and fresh ones written by real research, evolve and
 * pipeline runs of this code in a child process (which loads the loops; this
 * one never does).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
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

  describe('on ledgers written just now by real runs', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'strata-fresh-ledgers-'));
    let made: SpawnSyncReturns<string>;
    beforeAll(() => {
      made = spawnSync(process.execPath, [join(fixtures, 'make-ledgers.ts'), fresh], { encoding: 'utf8', timeout: 180_000 });
    }, 200_000);

    for (const name of ['research.db', 'evolve.db', 'pipeline.db']) {
      it(`rebuilds ${name} and strata ledger check finds no difference`, () => {
        expect(made.status, made.stderr).toBe(0);
        const ledger = Ledger.open(join(fresh, name), { readOnly: true });
        const target = join(mkdtempSync(join(tmpdir(), 'strata-rebuilt-')), 'rebuilt.db');
        rebuildLedger(ledger, target).close();
        for (const table of ['trials', 'candidates', 'evaluations', 'llm_calls', 'holdout_results']) {
          expect(rows(target, table), table).toEqual(rows(join(fresh, name), table));
        }
        const check = checkLedger(ledger);
        expect(check.differences).toEqual([]);
        expect(check.events).toBeGreaterThan(10);
        ledger.close();
      });
    }
  });

  it('strata ledger check passes on every fixture after its migrations', () => {
    for (const name of ['research.db', 'evolve.db', 'pipeline.db']) {
      const ledger = Ledger.open(copyFixture(name));
      const check = checkLedger(ledger);
      expect(check.differences, name).toEqual([]);
      expect(check.ok).toBe(true);
      ledger.close();
    }
  });
});
