import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProjectFiles } from '../../../src/proposers/agent/project-files.ts';
import { applyEdits, parseSearchReplace, parseWholeFiles, ReplyFormatError } from '../../../src/proposers/agent/reply-edits.ts';

function project(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'strata-edits-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { root, files: new ProjectFiles(root, ['train.py', 'lib/*.py']) };
}

const REPLY = `I will lower the learning rate.

DESCRIPTION: halve the learning rate to stop the loss spikes
HYPOTHESIS: the loss curve oscillates, a sign of too large steps

train.py
\`\`\`python
<<<<<<< SEARCH
lr = 0.1
=======
lr = 0.05
>>>>>>> REPLACE
\`\`\`

**lib/new.py**
<<<<<<< SEARCH
=======
def helper():
    return 1
>>>>>>> REPLACE
`;

describe('search-replace replies', () => {
  it('parses the description, the hypothesis and blocks headed by paths (fences and markdown tolerated)', () => {
    const parsed = parseSearchReplace(REPLY);
    expect(parsed.description).toBe('halve the learning rate to stop the loss spikes');
    expect(parsed.hypothesis).toBe('the loss curve oscillates, a sign of too large steps');
    expect(parsed.edits).toEqual([
      { path: 'train.py', search: ['lr = 0.1'], replace: ['lr = 0.05'] },
      { path: 'lib/new.py', search: [], replace: ['def helper():', '    return 1'] },
    ]);
  });

  it('applies every block, creating a file from an empty SEARCH', () => {
    const { root, files } = project({ 'train.py': 'import x\nlr = 0.1\nsteps = 3\n' });
    expect(applyEdits(files, parseSearchReplace(REPLY).edits)).toEqual(['train.py', 'lib/new.py']);
    expect(readFileSync(join(root, 'train.py'), 'utf8')).toBe('import x\nlr = 0.05\nsteps = 3\n');
    expect(readFileSync(join(root, 'lib', 'new.py'), 'utf8')).toBe('def helper():\n    return 1\n');
  });

  it('matches whole lines exactly once, forgiving only trailing spaces', () => {
    const { root, files } = project({ 'train.py': 'a = 1\nb = 2   \na = 1\n' });
    const edit = (search: string[], replace: string[]) => ({ path: 'train.py', search, replace });
    expect(() => applyEdits(files, [edit(['a = 1'], ['a = 3'])])).toThrow(/match 2 places/);
    expect(() => applyEdits(files, [edit(['  b = 2'], ['b = 3'])])).toThrow(/do not match the file exactly/);
    expect(() => applyEdits(files, [edit(['a ='], ['x'])])).toThrow(/do not match/); // part of a line is not a line
    expect(readFileSync(join(root, 'train.py'), 'utf8')).toBe('a = 1\nb = 2   \na = 1\n');
    applyEdits(files, [edit(['b = 2', 'a = 1'], ['b = 20', 'a = 1'])]);
    expect(readFileSync(join(root, 'train.py'), 'utf8')).toBe('a = 1\nb = 20\na = 1\n');
  });

  it('writes nothing when any block fails (all or nothing), and refuses paths that are not editable', () => {
    const { root, files } = project({ 'train.py': 'lr = 0.1\n', 'prepare.py': 'SPLIT = 0.9\n' });
    const good = { path: 'train.py', search: ['lr = 0.1'], replace: ['lr = 0.2'] };
    expect(() => applyEdits(files, [good, { path: 'prepare.py', search: ['SPLIT = 0.9'], replace: ['SPLIT = 0.1'] }])).toThrow(/block 2 \(prepare.py\): prepare.py: not editable/);
    expect(() => applyEdits(files, [good, { path: '../escape.py', search: [], replace: ['x'] }])).toThrow(/"\.\." is refused/);
    expect(readFileSync(join(root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
  });

  it('reports replies it cannot read in words the model can act on', () => {
    expect(() => parseSearchReplace('DESCRIPTION: x\nno blocks here')).toThrow(/no SEARCH\/REPLACE block/);
    expect(() => parseSearchReplace('train.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE')).toThrow(/DESCRIPTION/);
    expect(() => parseSearchReplace('DESCRIPTION: x\ntrain.py\n<<<<<<< SEARCH\na\n>>>>>>> REPLACE')).toThrow(ReplyFormatError);
    expect(() => parseSearchReplace('DESCRIPTION: x\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE')).toThrow(/path on the line right above/);
  });
});

describe('whole-file replies', () => {
  it('takes fenced blocks headed by a path as complete files', () => {
    const { root, files } = project({ 'train.py': 'old\n' });
    const parsed = parseWholeFiles('DESCRIPTION: rewrite the trainer\n\ntrain.py\n```python\nlr = 0.3\nprint(lr)\n```\n');
    expect(parsed.edits).toEqual([{ path: 'train.py', search: null, replace: ['lr = 0.3', 'print(lr)'] }]);
    applyEdits(files, parsed.edits);
    expect(readFileSync(join(root, 'train.py'), 'utf8')).toBe('lr = 0.3\nprint(lr)\n');
    expect(() => parseWholeFiles('DESCRIPTION: x\ntrain.py\n```\nunclosed')).toThrow(/not closed/);
  });
});
