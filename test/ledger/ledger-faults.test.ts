/**
 * Faults at the ledger edge end in one line that says what happened and what
 * to do, never a stack trace or a message that hides the cause: a damaged
 * file, a full disk (SQLite's max_page_count everywhere, a real tmpfs where
 * the tests may mount one), a read-only repository (a tmpfs remounted
 * read-only).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LedgerError } from '../../src/core/errors.ts';
import { Ledger, ledgerDatabase } from '../../src/ledger/ledger.ts';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { gitIn } from '../helpers/study-repo.ts';

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ledgers');
const strata = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A copy of a fixture ledger, migrated to this Strata's schema. */
function migratedFixture(dir: string, name = 'research.db'): string {
  const path = join(dir, 'ledger.db');
  copyFileSync(join(FIXTURES, name), path);
  Ledger.open(path).close();
  return path;
}

function study(ledger: Ledger): void {
  ledger.record('study.created', { studyId: 1, name: 's', kind: 'evolve', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: 1 });
}

/** What a user sees: one line on stderr, no stack frames. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr.trim().split('\n')).toHaveLength(1);
}

// Mounting needs root (a dev container, a CI job with sudo-less root); elsewhere these tests say why they skip.
const mounts: string[] = [];
function mountTmpfs(size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = tempDir('strata-tmpfs-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (mounted.status !== 0) return undefined;
  mounts.push(dir);
  return dir;
}
function remount(dir: string, mode: 'ro' | 'rw'): void {
  const result = spawnSync('mount', ['-o', `remount,${mode}`, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`remount ${mode} failed: ${result.stderr}`);
}
afterAll(() => {
  for (const dir of mounts) spawnSync('umount', [dir]);
});
const canMount = (() => {
  const dir = mountTmpfs('64k');
  return dir !== undefined;
})();
/** Why the mount tests are skipped here; in CI (root, CI=true) they must run, so a missing mount fails instead. */
const NO_MOUNT = 'mounting a tmpfs is not permitted here (run as root)';
if (!canMount && process.env.CI === 'true') {
  it('can mount a tmpfs for the disk-full and read-only tests in CI', () => {
    throw new Error(`${NO_MOUNT}: CI runs as root and must exercise these faults`);
  });
}

describe('a damaged ledger', () => {
  it('is one line naming the file, the backup and the check, for status and ledger check alike', () => {
    const repo = tempDir('strata-damaged-');
    gitIn(repo, 'init', '-q', '-b', 'main');
    mkdirSync(join(repo, '.strata'));
    const path = migratedFixture(join(repo, '.strata'), 'pipeline.db');
    truncateSync(path, Math.floor(statSync(path).size / 3));

    expect(() => Ledger.open(path)).toThrow(expect.objectContaining({ code: 'ledger_corrupt' }));
    const status = strata(repo, 'status', '--study', 'pipe');
    expect(status.status).toBe(1);
    expectOneLine(status.stderr, /the ledger at .*ledger\.db is damaged \(database disk image is malformed\).*restore it from a backup.*strata ledger check/);
    const check = strata(repo, 'ledger', 'check');
    expect(check.status).toBe(1);
    expectOneLine(check.stderr, /is damaged/);
  });

  it('says a file that is not a ledger at all is damaged, not that a table is missing', () => {
    const path = join(tempDir('strata-garbage-'), 'ledger.db');
    writeFileSync(path, 'this is not a database\n'.repeat(400));
    expect(() => Ledger.open(path)).toThrow(/is damaged \(file is not a database\)/);
    expect(() => Ledger.open(path, { readOnly: true })).toThrow(expect.objectContaining({ code: 'ledger_corrupt' }));
  });
});

describe('a full disk', () => {
  it('keeps SQLITE_FULL as the error of the failed transaction (SQLite rolled back already; a second ROLLBACK must not hide it)', () => {
    const ledger = Ledger.open(join(tempDir('strata-full-'), 'ledger.db'));
    study(ledger);
    const db = ledgerDatabase(ledger);
    const pages = Number((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
    db.exec(`PRAGMA max_page_count = ${pages + 2}`);
    const call = (text: string) =>
      ledger.transaction(() => {
        const callId = ledger.nextId('llm_calls');
        ledger.record('llm.call_started', { callId, studyId: 1, trialId: null, candidateId: null, role: 'task', model: 'm', reservedUsd: null, request: { text } }, { studyId: 1 });
      });
    let error: unknown;
    try {
      call('x'.repeat(50_000));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(LedgerError);
    expect(error).toMatchObject({ code: 'ledger_disk_full' });
    expect((error as Error).message).toMatch(/^the disk holding the ledger \(.*\) is full while .*: free space there, then run again to resume/);
    expect((error as Error).message).not.toMatch(/cannot rollback/);
    expect(((error as Error).cause as Error).message).toBe('database or disk is full');
    // Nothing half-written, and the ledger works again once there is room.
    expect(ledger.eventCount()).toBe(1);
    db.exec('PRAGMA max_page_count = 1073741823');
    call('fits now');
    expect(ledger.llm.calls({ studyId: 1 })).toHaveLength(1);
    ledger.close();
  });

  it.skipIf(!canMount)(`on a real tmpfs that fills up, names the folder that is full${canMount ? '' : ` — skipped: ${NO_MOUNT}`}`, () => {
    const dir = mountTmpfs('256k')!;
    const ledger = Ledger.open(join(dir, 'ledger.db'));
    study(ledger);
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i++) {
      try {
        ledger.record('study.config_changed', { studyId: 1, config: { padding: `${i}`.repeat(20_000) }, configHash: String(i) }, { studyId: 1 });
      } catch (thrown) {
        error = thrown;
      }
    }
    expect(error).toMatchObject({ code: 'ledger_disk_full' });
    expect((error as Error).message).toContain(`the disk holding the ledger (${dir}) is full`);
    expect(ledger.study(1).name).toBe('s');
    ledger.close();
  });
});

describe('a read-only ledger', () => {
  it('refuses writes when opened read-only, and neither creates nor migrates anything', () => {
    const dir = tempDir('strata-readonly-');
    expect(() => Ledger.open(join(dir, 'missing.db'), { readOnly: true })).toThrow(/no ledger at/);
    const path = join(dir, 'old.db');
    copyFileSync(join(FIXTURES, 'research.db'), path);
    expect(() => Ledger.open(path, { readOnly: true })).toThrow(expect.objectContaining({ code: 'ledger_migration_needed' }));
    // openForReading migrates where it can, then reads read-only.
    const reading = Ledger.openForReading(path);
    expect(reading.readOnly).toBe(true);
    expect(reading.trials(1)).toHaveLength(7);
    expect(() => reading.record('study.state_changed', { studyId: 1, state: 'paused', reason: null }, { studyId: 1 })).toThrow(expect.objectContaining({ code: 'ledger_read_only' }));
    reading.close();
  });

  it.skipIf(!canMount)(`in a read-only repository: status and the dashboard read it, research says the repository is read-only, an old schema says how to migrate${canMount ? '' : ` — skipped: ${NO_MOUNT}`}`, () => {
    const mount = mountTmpfs('4m')!;
    const repo = join(mount, 'repo');
    mkdirSync(repo);
    gitIn(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'strata.yaml'), 'name: quad\nresearch:\n  editable: [train.mjs]\n  run: "node train.mjs"\n  budget: 10s\n  metric: {name: loss, goal: minimize}\n  params:\n    x: {type: float, low: -5, high: 5}\n');
    writeFileSync(join(repo, 'train.mjs'), 'console.log("METRIC loss=1")\n');
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-q', '-m', 'initial');
    mkdirSync(join(repo, '.strata'));
    const path = migratedFixture(join(repo, '.strata'));
    mkdirSync(join(repo, 'old'));
    copyFileSync(join(FIXTURES, 'research.db'), join(repo, 'old', 'ledger.db'));
    remount(mount, 'ro');
    try {
      const status = strata(repo, 'status');
      expect(status.stderr).toBe('');
      expect(status.status).toBe(0);
      expect(status.stdout).toMatch(/^quad {2}research · done/);
      // What `strata serve` reads with.
      const reader = LedgerReader.open(path);
      expect(reader.trials(1)).toHaveLength(7);
      reader.close();
      const research = strata(repo, 'research');
      expect(research.status).toBe(1);
      expectOneLine(research.stderr, /the repository at .* is read-only \(EROFS.*`strata status`, `strata serve` and `strata report` work here/);
      const old = strata(repo, 'ledger', 'check', '--ledger', 'old/ledger.db');
      expect(old.status).toBe(1);
      expectOneLine(old.stderr, /has schema version 2 and needs migration 3 .* but it cannot be written here: run `strata ledger check --ledger .*` once where the ledger is writable/);
    } finally {
      remount(mount, 'rw');
    }
  });
});
