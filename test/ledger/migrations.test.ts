import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/ledger/migrations.ts';
import { sqlRows } from '../helpers/ledger-sql.ts';

describe('ledger migrations', () => {
  it('lets several processes open a new ledger at once: each migration runs exactly once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'strata-ledger-')), 'ledger.db');
    const ledgerModule = resolve(import.meta.dirname, '../../src/ledger/ledger.ts');
    const script = `const { Ledger } = await import(${JSON.stringify(ledgerModule)}); Ledger.open(${JSON.stringify(path)}).close();`;
    const runs = Array.from({ length: 6 }, () =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script]);
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => done({ code, stderr }));
      }),
    );
    for (const result of await Promise.all(runs)) expect(result, result.stderr).toMatchObject({ code: 0 });
    const applied = sqlRows(path, 'SELECT version FROM schema_migrations ORDER BY version').map((row) => Number(row.version));
    expect(applied).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b));
  });
});
