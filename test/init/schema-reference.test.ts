import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_PATH, schemaReference } from '../../src/init/schema-reference.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

describe('the $schema reference strata init writes', () => {
  it('is the schema this installation ships', () => {
    expect(SCHEMA_PATH).toBe(resolve(import.meta.dirname, '../../schema/strata.schema.json'));
    expect(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'))).toHaveProperty('properties.research');
  });

  it('is relative when strata is installed in the project, from a subfolder too', () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n' });
    const schema = join(repo, 'node_modules/strata/schema/strata.schema.json');
    mkdirSync(dirname(schema), { recursive: true });
    writeFileSync(schema, '{}');
    expect(schemaReference(join(repo, 'strata.yaml'), schema)).toBe('./node_modules/strata/schema/strata.schema.json');
    mkdirSync(join(repo, 'exp'));
    expect(schemaReference(join(repo, 'exp/strata.yaml'), schema)).toBe('../node_modules/strata/schema/strata.schema.json');
  });

  it('is absolute when strata lives outside the project (npx, a global install, a clone elsewhere)', () => {
    // The bug: a Python repository has no node_modules, so ./node_modules/strata/... resolved to nothing.
    const repo = makeRepo({ 'train.py': 'print(1)\n' });
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'strata-install-')), 'schema/strata.schema.json');
    expect(schemaReference(join(repo, 'strata.yaml'), elsewhere)).toBe(elsewhere);
    expect(schemaReference(join(repo, 'strata.yaml'))).toBe(SCHEMA_PATH);
  });

  it('treats a worktree as its own project, and a folder without git as the project', () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n' });
    const tree = join(mkdtempSync(join(tmpdir(), 'strata-tree-')), 'wt');
    gitIn(repo, 'worktree', 'add', '-q', tree);
    expect(schemaReference(join(tree, 'strata.yaml'), join(tree, 'node_modules/strata/schema/strata.schema.json'))).toBe('./node_modules/strata/schema/strata.schema.json');
    const plain = mkdtempSync(join(tmpdir(), 'strata-plain-'));
    expect(schemaReference(join(plain, 'strata.yaml'), join(plain, 'node_modules/s.json'))).toBe('./node_modules/s.json');
    expect(schemaReference(join(plain, 'strata.yaml'), '/opt/strata/schema/strata.schema.json')).toBe('/opt/strata/schema/strata.schema.json');
  });
});
