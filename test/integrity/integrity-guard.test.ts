import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareSnapshots, describeViolations } from '../../src/integrity/compare-snapshots.ts';
import { snapshotFiles } from '../../src/integrity/file-snapshot.ts';
import { IntegrityGuard } from '../../src/integrity/integrity-guard.ts';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with an evaluator, a data folder and the trainer. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-integrity-'));
  made.push(dir);
  writeFileSync(join(dir, 'prepare.py'), 'def evaluate(): ...\n');
  writeFileSync(join(dir, 'train.py'), 'print(1)\n');
  writeFileSync(join(dir, 'strata.yaml'), 'name: x\n');
  mkdirSync(join(dir, 'data', 'split'), { recursive: true });
  writeFileSync(join(dir, 'data', 'val.bin'), 'validation bytes');
  writeFileSync(join(dir, 'data', 'split', 'test.bin'), 'test bytes');
  chmodSync(join(dir, 'prepare.py'), 0o644);
  return dir;
}

const globs = ['prepare.py', 'data/**', 'strata.yaml'];

describe('file snapshots', () => {
  it('records files, folders reached by a glob, and nothing else', async () => {
    const dir = project();
    const snapshot = await snapshotFiles(dir, globs);
    expect([...snapshot.keys()]).toEqual(['data', 'data/split', 'data/split/test.bin', 'data/val.bin', 'prepare.py', 'strata.yaml']);
    expect(snapshot.get('prepare.py')).toMatchObject({ kind: 'file', mode: 0o644, size: 20 });
  });

  it('never follows a symlink, also not in a parent of a glob', async () => {
    const dir = project();
    const elsewhere = mkdtempSync(join(tmpdir(), 'strata-elsewhere-'));
    made.push(elsewhere);
    mkdirSync(join(elsewhere, 'deep'));
    writeFileSync(join(elsewhere, 'deep', 'x'), 'x');
    mkdirSync(join(dir, 'sub'));
    symlinkSync(elsewhere, join(dir, 'sub', 'link'));
    const snapshot = await snapshotFiles(dir, ['sub/link/deep/**']);
    expect(snapshot.get('sub/link')).toEqual({ kind: 'symlink', target: elsewhere });
    expect(snapshot.has('sub/link/deep/x')).toBe(false);
  });
});

describe('the integrity guard', () => {
  it('passes an untouched copy and reports every kind of tampering after a run', async () => {
    const pristine = project();
    const guard = await IntegrityGuard.fromCheckout(pristine, globs);
    const trial = project();
    const before = await guard.checkBeforeRun(trial);
    expect(before.violations).toEqual([]);

    writeFileSync(join(trial, 'prepare.py'), 'def evaluate(): return 0.0\n');
    chmodSync(join(trial, 'prepare.py'), 0o664);
    rmSync(join(trial, 'data', 'val.bin'));
    symlinkSync('/tmp/fake-val.bin', join(trial, 'data', 'val.bin'));
    writeFileSync(join(trial, 'data', 'extra.bin'), 'new');
    rmSync(join(trial, 'strata.yaml'));
    writeFileSync(join(trial, 'train.py'), 'print(2)\n'); // editable: not watched

    const violations = await guard.checkAfterRun(trial, before.snapshot);
    expect(violations.map((v) => [v.path, v.change])).toEqual([
      ['data/extra.bin', 'added'],
      ['data/val.bin', 'type'],
      ['prepare.py', 'content'],
      ['strata.yaml', 'removed'],
    ]);
    expect(describeViolations(violations)).toBe(
      'data/extra.bin (new a file), data/val.bin (file replaced by a symlink to /tmp/fake-val.bin), prepare.py (content changed), strata.yaml (file removed)',
    );
  });

  it('sees a mode change alone, and a protected folder turned into a symlink', async () => {
    const pristine = project();
    const guard = await IntegrityGuard.fromCheckout(pristine, globs);
    const trial = project();
    const before = await guard.checkBeforeRun(trial);
    chmodSync(join(trial, 'prepare.py'), 0o755);
    rmSync(join(trial, 'data'), { recursive: true });
    symlinkSync(pristine, join(trial, 'data'));
    const violations = await guard.checkAfterRun(trial, before.snapshot);
    expect(violations.find((v) => v.path === 'prepare.py')).toMatchObject({ change: 'mode', detail: 'mode 644 → 755' });
    expect(violations.find((v) => v.path === 'data')).toMatchObject({ change: 'type', detail: `directory replaced by a symlink to ${pristine}` });
  });

  it('before a run, only the executable bit of a file is compared with the reference', async () => {
    const pristine = project();
    const guard = await IntegrityGuard.fromCheckout(pristine, globs);
    const trial = project();
    chmodSync(join(trial, 'prepare.py'), 0o600);
    expect((await guard.checkBeforeRun(trial)).violations).toEqual([]);
    chmodSync(join(trial, 'prepare.py'), 0o700);
    expect((await guard.checkBeforeRun(trial)).violations.map((v) => v.change)).toEqual(['mode']);
    expect(guard.digest()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('compares snapshots symmetrically', async () => {
    const a = project();
    const snapshot = await snapshotFiles(a, globs);
    expect(compareSnapshots(snapshot, snapshot, 'all')).toEqual([]);
    expect(compareSnapshots(snapshot, new Map(), 'all').every((v) => v.change === 'removed')).toBe(true);
  });
});
