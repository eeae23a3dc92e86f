/**
 * The sandbox as an unprivileged user: whole studies run as uid 65534 in a
 * child process (the test itself is root in CI and switches with setpriv).
 * Where the machine lets that user have bubblewrap, trials run and the
 * covers, the read-only checkout and the credential scrub hold, for trials
 * and for the command proposer's agent alike; where it does not, the study
 * refuses in one line naming what is missing. Never a trial that exits 125
 * and is blamed on the training script.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
const NOBODY = 65534;
const canSwitch = process.platform === 'linux' && process.getuid?.() === 0 && SETPRIV !== undefined;

interface ChildReport {
  uid: number;
  confined: boolean;
  state?: string;
  trials?: { seq: number; status: string; reason: string | null; log: string | null }[];
  /** The checkout unchanged, the git config with a monitor, the secrets found in anything Strata wrote. */
  outside?: { checkout: boolean; gitConfig: boolean; leaked: string[] };
  error?: string;
}

/** Run a fixture as uid 65534 in a fresh folder it owns; its last line of output, parsed. */
function asNobody<Report>(fixture: string): Report {
  const dir = mkdtempSync(join(tmpdir(), 'strata-unprivileged-'));
  try {
    chownSync(dir, NOBODY, NOBODY);
    const script = resolve(import.meta.dirname, 'fixtures', fixture);
    const out = execFileSync(
      SETPRIV!,
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--disable-warning=ExperimentalWarning', script, dir],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }, timeout: 120_000 },
    );
    return JSON.parse(out.trim().split('\n').at(-1)!) as Report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface AgentReport {
  uid: number;
  confined: boolean;
  agentLog?: string;
  outside?: { checkout: boolean; data: boolean; gitConfig: boolean; hook: boolean; ran: boolean; settings: boolean };
  trials?: { seq: number; status: string; reason: string | null }[];
  error?: string;
}

describe.runIf(canSwitch)('the sandbox as an unprivileged user', () => {
  it('runs the trials of a study with holdout_data and network: off, and the covers, the read-only checkout and the credential scrub hold; or refuses in one line', () => {
    const report = asNobody<ChildReport>('unprivileged-study.ts');
    expect(report.uid).toBe(NOBODY);
    if (!report.confined) {
      // No bubblewrap for this user here: the study refuses before any trial, saying what to install or allow.
      expect(report.error).toMatch(/^the sandbox cannot be set up: research\.network: off needs a network namespace[^\n]*install bubblewrap/);
      return;
    }
    expect(report.state).toBe('done');
    expect(report.trials!.map((trial) => [trial.seq, trial.status])).toEqual([
      [0, 'keep'],
      [1, 'discard'],
    ]);
    const attack = report.trials![1]!.log ?? '';
    expect(attack).toMatch(/umount: [^\n]*(must be superuser|Operation not permitted)/);
    expect(attack).toContain('STRATA-HIDDEN.txt');
    expect(attack).not.toContain('the sealed labels');
    // The ledger's cover, the checkout and the repository's config, as for root.
    expect(attack).not.toContain('SQLite format 3');
    expect(attack).toMatch(/mount: [^\n]*(must be superuser|Operation not permitted|permission denied)/i);
    expect(attack).toMatch(/train\.mjs: Read-only file system/);
    expect(attack).toMatch(/could not lock config file|Read-only file system/);
    expect(report.outside).toEqual({ checkout: true, gitConfig: false, leaked: [] });
    // The user's own credential files are out of sight (a plain file beside them is not), its secret variables withheld by name.
    expect(attack).toContain('a plain file beside them');
    expect(attack).toMatch(/withheld: [^\]]*\bDB_PASS\b[^\]]*\bPGPASSWORD\b/);
  });

  it("confines the command proposer's agent: it cannot write the checkout, a protected file or the git config, nor read other tools' credentials; or the study refuses in one line", () => {
    const report = asNobody<AgentReport>('unprivileged-agent.ts');
    expect(report.uid).toBe(NOBODY);
    if (!report.confined) {
      expect(report.error).toMatch(/^research\.agent_sandbox\.network: off needs a network namespace[^\n]*install bubblewrap/);
      return;
    }
    const log = report.agentLog ?? '';
    for (const refused of ['main checkout: refused', 'data: refused', 'git config: refused', 'hook: refused', 'claude settings: refused', 'ledger: unseen', 'aws env: none']) expect(log).toContain(refused);
    expect(log).not.toContain('aws-secret-of-nobody');
    // Its own credentials stay readable to it.
    expect(log).toMatch(/claude credentials: [1-9]\d* bytes/);
    expect(report.outside).toEqual({ checkout: true, data: true, gitConfig: false, hook: false, ran: false, settings: true });
    expect(report.trials!.map((trial) => [trial.seq, trial.status])).toEqual([
      [0, 'keep'],
      [1, 'keep'],
    ]);
  });
});
