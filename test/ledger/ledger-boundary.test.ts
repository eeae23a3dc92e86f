/**
 * The ledger owns state: no SQL and no SQLite connection outside src/ledger/.
 * Loops, the dashboard and the CLI read and write through the typed methods
 * and stores, so a schema change touches one folder and every write is an event.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const FORBIDDEN: { what: string; pattern: RegExp }[] = [
  { what: 'a SQLite connection', pattern: /node:sqlite/ },
  { what: "the ledger's connection", pattern: /\bledgerDatabase\b|\.db\.(prepare|exec)\b/ },
  { what: 'a prepared statement', pattern: /\bprepared\(/ },
  { what: 'SQL', pattern: /\bSELECT\b[^;\n]*\bFROM\b|\bINSERT (OR \w+ )?INTO\b|\bUPDATE \w+ SET\b|\bDELETE FROM\b|\bPRAGMA \w+|\bCREATE (TABLE|INDEX)\b/ },
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the ledger boundary', () => {
  it('keeps every SQL statement and SQLite connection inside src/ledger/', () => {
    const found: string[] = [];
    for (const file of sources(SRC)) {
      const path = relative(SRC, file);
      if (path.startsWith(`ledger/`)) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const { what, pattern } of FORBIDDEN) if (pattern.test(line)) found.push(`src/${path}:${i + 1}: ${what}: ${line.trim().slice(0, 100)}`);
        });
    }
    expect(found).toEqual([]);
  });
});
