import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { containCommand, type Containment } from '../../src/sandbox/contain-command.ts';
import { isWithheld, scrubEnvironment } from '../../src/sandbox/scrub-environment.ts';
import { shellQuote } from '../../src/sandbox/shell-quote.ts';

const plain: Containment = { network: true, readOnly: [], writable: [], hidden: [], cgroupProcs: [] };

describe('shell quoting', () => {
  it('survives every awkward character', () => {
    const nasty = `it's $HOME "quoted" \`date\` ; rm -rf / \\ \n end`;
    expect(execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(nasty)}`], { encoding: 'utf8' })).toBe(nasty);
  });
});

describe('containCommand', () => {
  it('without namespaces runs the command as is, under prlimit when asked', () => {
    expect(containCommand('echo hi', plain, null)).toBe(`exec '/bin/sh' '-c' 'echo hi'`);
    const limited = containCommand('echo hi', { ...plain, rlimits: { prlimit: '/usr/bin/prlimit', addressSpaceBytes: 1024, processes: 10 } }, null);
    expect(limited).toBe(`exec '/usr/bin/prlimit' '--as=1024' '--nproc=10' '--' '/bin/sh' '-c' 'echo hi'`);
    expect(execFileSync('/bin/sh', ['-c', containCommand('echo "$((1+1))"', plain, null)], { encoding: 'utf8' })).toBe('2\n');
  });

  it('joins the cgroups first, and stops if it cannot', () => {
    const command = containCommand('echo hi', { ...plain, cgroupProcs: ['/nonexistent/cgroup.procs'] }, null);
    expect(command.split('\n')[0]).toContain(`echo $$ > '/nonexistent/cgroup.procs'`);
    expect(() => execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/could not join the cgroup/);
  });

  it('builds bubblewrap arguments with the same meaning', () => {
    const command = containCommand('python train.py', { network: false, readOnly: ['/repo'], writable: ['/repo/.strata/wt'], hidden: ['/'], cgroupProcs: [] }, {
      tool: 'bwrap',
      path: '/usr/bin/bwrap',
      userNamespace: false,
      network: true,
      pid: true,
      mount: true,
    });
    expect(command).toBe(
      `exec '/usr/bin/bwrap' '--dev-bind' '/' '/' '--die-with-parent' '--unshare-pid' '--proc' '/proc' '--unshare-net' '--ro-bind-try' '/repo' '/repo' '--bind-try' '/repo/.strata/wt' '/repo/.strata/wt' '--tmpfs' '/' '--remount-ro' '/' '--' '/bin/sh' '-c' 'python train.py'`,
    );
  });
});

describe('the scrubbed environment', () => {
  it('withholds credentials and session handles, keeps what research.env names', () => {
    for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'HF_TOKEN', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'SSH_AUTH_SOCK', 'XDG_CACHE_HOME', 'DATABASE_URL', 'SENTRY_DSN']) {
      expect(isWithheld(name), name).toBe(true);
    }
    for (const name of ['PATH', 'LANG', 'CUDA_VISIBLE_DEVICES', 'PYTHONPATH', 'KEYBOARD', 'TOKENIZERS_PARALLELISM']) expect(isWithheld(name), name).toBe(false);
    const env = scrubEnvironment({ PATH: '/bin', HF_TOKEN: 'x', WANDB_API_KEY: 'w', HOME: '/home/me' }, { explicit: ['WANDB_API_KEY'], home: '/s/h', tmp: '/s/t', extra: { STRATA_ARTIFACTS: '/a' } });
    expect(env).toEqual({ PATH: '/bin', WANDB_API_KEY: 'w', HOME: '/s/h', TMPDIR: '/s/t', TMP: '/s/t', TEMP: '/s/t', STRATA_ARTIFACTS: '/a', STRATA_WITHHELD: 'HF_TOKEN' });
    expect(scrubEnvironment({ HOME: '/shared' }, { explicit: ['HOME'], home: '/s/h', tmp: '/s/t' }).HOME).toBe('/shared');
  });
});
