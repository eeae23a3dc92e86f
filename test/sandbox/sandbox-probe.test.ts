/**
 * The probe and the refusals, on machines played by a stand-in `bwrap` on
 * the PATH: one that accepts every option and confines nothing (the probe
 * must see that from inside and refuse it), and one that passes the probe
 * but cannot set up a trial's sandbox (issue 13's kernel where every trial
 * exited 125 and was blamed on the training script: the study must stop with
 * bubblewrap's own line instead).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { probeSandbox } from '../../src/sandbox/sandbox-capabilities.ts';
import { config, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

const REAL_BWRAP = ['/usr/bin/bwrap', '/bin/bwrap'].find((path) => {
  try {
    execFileSync(path, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // not installed there
  }
});
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A folder holding an executable `bwrap` with `body` as its shell script. */
function fakeBwrap(body: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'strata-fake-bwrap-'));
  folders.push(folder);
  writeFileSync(join(folder, 'bwrap'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(folder, 'bwrap'), 0o755);
  return folder;
}

describe.runIf(process.platform === 'linux')('the sandbox probe', () => {
  it('runs the setup a trial gets and refuses a bubblewrap that confines nothing, saying what it saw', () => {
    // Takes every option and runs the command as it is: the capabilities stay (as root), the checkout stays writable, nothing is hidden.
    const folder = fakeBwrap('while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"');
    const probe = resolve(import.meta.dirname, '../../src/sandbox/sandbox-capabilities.ts');
    const script = `import { probeSandbox } from ${JSON.stringify(probe)}; const c = await probeSandbox(); console.log(JSON.stringify({ namespaces: c.namespaces, notes: c.notes }));`;
    const out = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${folder}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}` },
      timeout: 60_000,
    });
    const seen = JSON.parse(out.trim().split('\n').at(-1)!) as { namespaces: unknown; notes: string[] };
    expect(seen.namespaces).toBeNull();
    const bwrapNotes = seen.notes.filter((note) => note.startsWith('bwrap'));
    // Every setup, strongest first, was tried and each one failed the check from inside.
    expect(bwrapNotes).toHaveLength(6);
    for (const note of bwrapNotes) expect(note).toMatch(process.getuid?.() === 0 ? /: the sandboxed process kept capabilities \(caps=0*[1-9a-f]/ : /: the sandbox did not hold: expected .* saw caps=0+ nnp=0 repo=rw/);
  });

  it.runIf(REAL_BWRAP !== undefined)('a sandbox that passes the probe but cannot be set up for a trial stops the study with bubblewrap\'s line, not a crash blamed on the script', async () => {
    // The probe's scratch folders are named strata-probe-*: the real bubblewrap there, a failing mount everywhere else.
    const folder = fakeBwrap(`case "$*" in *strata-probe-*) exec ${REAL_BWRAP} "$@";; esac\necho "bwrap: Can't remount read-only on /newroot/tmp: Permission denied" >&2\nexit 1`);
    const savedPath = process.env.PATH;
    process.env.PATH = `${folder}${delimiter}${savedPath ?? '/usr/bin:/bin'}`;
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(0), 'data/x.txt': 'data\n', 'strata.yaml': quadraticConfig({ maxTrials: 2 }) });
    folders.push(repo);
    try {
      expect((await probeSandbox()).namespaces?.path).toBe(join(folder, 'bwrap'));
      const error = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 2 })) }).then(
        () => new Error('the study ran'),
        (caught: unknown) => caught,
      );
      const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
      try {
        const study = ledger.studyByName('quad')!;
        const trials = ledger.trials(study.id);
        // The error reaches the command line as one line naming the machine and what bubblewrap said; the study pauses until it is fixed.
        expect((error as Error).message).toMatch(/^the sandbox could not be set up for 0-1-run \(bwrap: Can't remount read-only on \/newroot\/tmp: Permission denied\); this is the machine, not the training script: install bubblewrap/);
        expect((error as Error).message).not.toContain('\n');
        expect(study.state).toBe('paused');
        // The baseline is not blamed: interrupted by the orchestrator, not a crash of the training script.
        expect(trials.map((trial) => [trial.seq, trial.status])).toEqual([[0, 'interrupted']]);
        expect(trials[0]!.statusReason).toMatch(/^orchestrator error: the sandbox could not be set up/);
      } finally {
        ledger.close();
      }
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
