import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanPath, PathRefusedError, ProjectFiles } from '../../../src/proposers/agent/project-files.ts';

/** A project folder inside a parent that also holds a secret file outside it. */
function project() {
  const parent = mkdtempSync(join(tmpdir(), 'strata-files-'));
  const root = join(parent, 'project');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'train.py'), 'lr = 0.1\nsteps = 100\nprint("go")\n');
  writeFileSync(join(root, 'src', 'model.py'), 'width = 64\n');
  writeFileSync(join(root, 'data', 'x.txt'), 'data\n');
  writeFileSync(join(parent, 'secret.txt'), 'top secret\n');
  writeFileSync(join(root, '.git'), 'gitdir: elsewhere\n');
  return { parent, root, files: new ProjectFiles(root, ['train.py', 'src/**']) };
}

describe('ProjectFiles confinement', () => {
  it('refuses absolute paths, "..", .git and .strata, even when they would land inside', () => {
    const { root, files } = project();
    for (const path of ['/etc/passwd', join(root, 'train.py'), '../secret.txt', 'src/../train.py', '..', '.git', '.git/config', '.strata/ledger.db', 'C:/x', '~/x', '']) {
      expect(() => files.check(path, 'read'), path).toThrow(PathRefusedError);
    }
    expect(cleanPath('./src//model.py')).toBe('src/model.py');
  });

  it('refuses a symlink that leads out of the project, for reading and writing, file or folder', () => {
    const { parent, root, files } = project();
    symlinkSync(join(parent, 'secret.txt'), join(root, 'leak.txt'));
    symlinkSync(parent, join(root, 'src', 'up'));
    symlinkSync(join(parent, 'nowhere'), join(root, 'dangling'));
    expect(() => files.read('leak.txt')).toThrow(/outside the project/);
    expect(() => files.read('src/up/secret.txt')).toThrow(/outside the project/);
    expect(() => files.write('src/up/secret.txt', 'pwned')).toThrow(PathRefusedError);
    expect(() => files.write('src/up/new.txt', 'pwned')).toThrow(PathRefusedError);
    expect(() => files.read('dangling')).toThrow(PathRefusedError);
    expect(readFileSync(join(parent, 'secret.txt'), 'utf8')).toBe('top secret\n');
    // listing does not follow links either
    expect(files.list().files.map((file) => file.path)).not.toContain('src/up/secret.txt');
  });

  it('never writes through a symlink, even one pointing inside (it would change another file than the one checked)', () => {
    const { root, files } = project();
    symlinkSync(join(root, 'data', 'x.txt'), join(root, 'src', 'alias.py'));
    expect(files.read('src/alias.py')).toContain('data');
    expect(() => files.write('src/alias.py', 'x')).toThrow(/symlink/);
    expect(readFileSync(join(root, 'data', 'x.txt'), 'utf8')).toBe('data\n');
  });

  it('writes only editable paths, and creates new files and folders under editable globs', () => {
    const { root, files } = project();
    expect(() => files.write('data/x.txt', 'poisoned')).toThrow(/not editable; this study may change only train.py, src\/\*\*/);
    expect(() => files.replace('data/x.txt', 'data', 'x')).toThrow(/not editable/);
    files.write('src/layers/new.py', 'def f(): pass\n');
    expect(readFileSync(join(root, 'src', 'layers', 'new.py'), 'utf8')).toBe('def f(): pass\n');
    expect(files.written).toEqual(['src/layers/new.py']);
  });
});

describe('ProjectFiles reading and editing', () => {
  it('lists files with sizes and marks the editable ones, skipping .git', () => {
    const { files } = project();
    expect(files.list().files).toEqual([
      { path: 'data/x.txt', bytes: 5, editable: false },
      { path: 'src/model.py', bytes: 11, editable: true },
      { path: 'train.py', bytes: 33, editable: true },
    ]);
  });

  it('reads numbered line ranges and says where the file goes on', () => {
    const { files } = project();
    expect(files.read('train.py', 2, 2)).toBe('    2  steps = 100\n[lines 2-2 of 3; read on with start_line 3]');
    expect(files.read('train.py')).toContain('    3  print("go")');
    expect(files.read('train.py', 9)).toMatch(/past the end/);
    expect(() => files.read('src')).toThrow(/is a folder/);
    expect(() => files.read('missing.py')).toThrow(/no such file/);
  });

  it('searches text across the project', () => {
    const { files } = project();
    expect(files.search('width')).toBe('src/model.py:1: width = 64');
    expect(files.search('nothing like this')).toMatch(/no line contains/);
  });

  it('replaces exactly one occurrence, and says why otherwise', () => {
    const { root, files } = project();
    expect(files.replace('train.py', 'lr = 0.1', 'lr = 0.05')).toBe('edited train.py');
    expect(readFileSync(join(root, 'train.py'), 'utf8')).toBe('lr = 0.05\nsteps = 100\nprint("go")\n');
    expect(() => files.replace('train.py', 'lr = 0.3', 'x')).toThrow(/not found/);
    writeFileSync(join(root, 'src', 'model.py'), 'a = 1\na = 1\n');
    expect(() => files.replace('src/model.py', 'a = 1', 'a = 2')).toThrow(/occurs 2 times/);
    expect(() => files.replace('train.py', '', 'x')).toThrow(/exists/);
    expect(files.replace('src/extra.py', '', 'b = 2\n')).toMatch(/created src\/extra.py/);
  });
});
