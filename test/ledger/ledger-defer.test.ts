/**
 * Ledger.defer: writes that share the next commit. Other connections see them
 * only once committed; this connection reads them at once; the event log's
 * order is the order of the calls; a failed commit loses none of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { recordCallFinished, recordCallStarted } from '../../src/llm/call-ledger.ts';
import { sqlRows } from '../helpers/ledger-sql.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fileLedger(): { ledger: Ledger; studyId: number } {
  const dir = mkdtempSync(join(tmpdir(), 'strata-defer-'));
  dirs.push(dir);
  const ledger = Ledger.open(join(dir, 'ledger.db'));
  ledger.record('study.created', { studyId: 1, name: 's', kind: 'evolve', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: 1 });
  return { ledger, studyId: 1 };
}

const start = (ledger: Ledger, studyId: number, role: string) =>
  recordCallStarted(ledger, { studyId, trialId: null, candidateId: null, role, model: 'm', reservedUsd: 1, request: null });
const finish = (ledger: Ledger, studyId: number, callId: number) =>
  ledger.defer(() => recordCallFinished(ledger, callId, { inputTokens: 1, outputTokens: 1, usd: 0.5, latencyMs: 3, finishReason: 'stop', error: null, responseText: 'ok' }, studyId));
/** What another process reading the file sees. */
const committedTypes = (ledger: Ledger) => sqlRows(ledger, 'SELECT type FROM events ORDER BY id').map((row) => String(row.type));

describe('Ledger.defer', () => {
  it('commits deferred writes with the next transaction, before it, in the order they were made', () => {
    const { ledger, studyId } = fileLedger();
    const first = start(ledger, studyId, 'task');
    const second = start(ledger, studyId, 'task');
    finish(ledger, studyId, second);
    finish(ledger, studyId, first);
    expect(committedTypes(ledger)).toEqual(['study.created', 'llm.call_started', 'llm.call_started']);
    start(ledger, studyId, 'judge');
    expect(committedTypes(ledger)).toEqual(['study.created', 'llm.call_started', 'llm.call_started', 'llm.call_finished', 'llm.call_finished', 'llm.call_started']);
    const finished = sqlRows(ledger, "SELECT json_extract(payload_json, '$.callId') AS call FROM events WHERE type = 'llm.call_finished' ORDER BY id").map((row) => Number(row.call));
    expect(finished).toEqual([second, first]);
    expect(checkLedger(ledger).differences).toEqual([]);
    ledger.close();
  });

  it('commits them at the end of the turn of the event loop when nothing else writes', async () => {
    const { ledger, studyId } = fileLedger();
    finish(ledger, studyId, start(ledger, studyId, 'task'));
    expect(committedTypes(ledger)).not.toContain('llm.call_finished');
    await nextTurn();
    expect(committedTypes(ledger)).toContain('llm.call_finished');
    ledger.close();
  });

  it('lets this connection read its deferred writes at once', () => {
    const { ledger, studyId } = fileLedger();
    const callId = start(ledger, studyId, 'task');
    finish(ledger, studyId, callId);
    expect(ledger.llm.spentUsd(studyId)).toBe(0.5);
    expect(ledger.events(studyId).map((event) => event.type)).toContain('llm.call_finished');
    ledger.close();
  });

  it('keeps them queued when the commit that carries them fails, and commits them once with the next', () => {
    const { ledger, studyId } = fileLedger();
    const callId = start(ledger, studyId, 'task');
    finish(ledger, studyId, callId);
    expect(() =>
      ledger.transaction(() => {
        throw new RangeError('the caller failed');
      }),
    ).toThrow('the caller failed');
    expect(committedTypes(ledger)).not.toContain('llm.call_finished');
    start(ledger, studyId, 'task');
    expect(committedTypes(ledger).filter((type) => type === 'llm.call_finished')).toHaveLength(1);
    expect(checkLedger(ledger).differences).toEqual([]);
    ledger.close();
  });

  it('runs a write deferred inside a transaction in that transaction, and commits what is queued on close', () => {
    const { ledger, studyId } = fileLedger();
    const callId = start(ledger, studyId, 'task');
    ledger.transaction(() => finish(ledger, studyId, callId));
    expect(committedTypes(ledger)).toContain('llm.call_finished');
    finish(ledger, studyId, start(ledger, studyId, 'task'));
    ledger.close();
    expect(committedTypes(ledger).filter((type) => type === 'llm.call_finished')).toHaveLength(2);
  });
});
