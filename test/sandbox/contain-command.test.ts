import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bubblewrapArgv, containCommand, type Containment } from '../../src/sandbox/contain-command.ts';
import { isWithheld, matchesName, scrubEnvironment } from '../../src/sandbox/scrub-environment.ts';
import { shellQuote } from '../../src/sandbox/shell-quote.ts';
import { sandboxLayout } from './sandbox-helpers.ts';

const plain: Containment = { network: true, readable: [], covered: [], writable: [], readOnlyInside: [], hidden: [], markerDir: '/nonexistent', cgroupProcs: [] };

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

  it('builds bubblewrap arguments: no capabilities, the host read-only, private /tmp and /run, then the folders parents first so each shows where it should', () => {
    const made = sandboxLayout();
    try {
      const state = join(made.root, '.strata');
      const support = { path: '/usr/bin/bwrap', userNamespace: true, blockNestedUserNamespaces: true, network: true, gracefulStop: true };
      const containment = { ...plain, network: false, readable: [made.root], covered: [state], writable: [made.workdir], readOnlyInside: [made.artifacts], hidden: [made.scratch] };
      const argv = bubblewrapArgv('python train.py', containment, support);
      const at = (...words: string[]) => argv.findIndex((_, index) => argv.slice(index, index + words.length).join('\0') === words.join('\0'));
      expect(argv.slice(0, 9)).toEqual(['/usr/bin/bwrap', '--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--cap-drop', 'ALL', '--unshare-net']);
      const order = [
        at('--ro-bind', '/', '/'),
        at('--dev', '/dev'),
        at('--proc', '/proc'),
        at('--tmpfs', '/tmp'),
        at('--ro-bind', made.root, made.root),
        at('--tmpfs', state),
        at('--bind', made.workdir, made.workdir),
        at('--ro-bind', made.artifacts, made.artifacts),
        at('--remount-ro', state),
      ];
      expect(order.every((index) => index > 0), JSON.stringify(order)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(at('--tmpfs', '/run')).toBeGreaterThan(at('--proc', '/proc'));
      // The scratch folder lies inside the covered state folder: gone already, so no mount point is made for it.
      expect(argv).not.toContain(made.scratch);
      const tail = argv.slice(argv.indexOf('--'));
      expect([...tail.slice(0, 5), ...tail.slice(-2)]).toEqual(['--', 'env', '--default-signal=TERM,INT', '/bin/sh', '-c', 'strata-sandbox', 'python train.py']);
      expect(containCommand('python train.py', containment, support).split('\n')[0]).toBe(`trap '' TERM INT`);
    } finally {
      made.cleanup();
    }
  });
});

describe('the scrubbed environment', () => {
  it('withholds what looks like a credential by name or by value, and session handles; keeps what research.env and env_passthrough name', () => {
    const secrets = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'HF_TOKEN', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'PGPASSWORD', 'DB_PASS', 'MYSQL_PWD_PASSWD', 'SMTP_CREDENTIALS', 'STRIPE_KEY', 'SSH_AUTH_SOCK', 'XDG_CACHE_HOME', 'DATABASE_URL', 'SENTRY_DSN', 'KEYBOARD'];
    for (const name of secrets) expect(isWithheld(name), name).toBe(true);
    for (const name of ['PATH', 'LANG', 'CUDA_VISIBLE_DEVICES', 'PYTHONPATH', 'TOKENIZERS_PARALLELISM', 'MAX_NEW_TOKENS', 'AUTHOR']) expect(isWithheld(name), name).toBe(false);
    expect(isWithheld('HTTPS_PROXY', 'http://me:hunter2@proxy:3128')).toBe(true);
    expect(isWithheld('MY_SERVICE', 'sk-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaa')).toBe(true);
    expect(isWithheld('UPSTREAM', 'https://github.com/me/repo')).toBe(false);
    const env = scrubEnvironment({ PATH: '/bin', HF_TOKEN: 'x', WANDB_API_KEY: 'w', HOME: '/home/me' }, { explicit: ['WANDB_API_KEY'], home: '/s/h', tmp: '/s/t', extra: { STRATA_ARTIFACTS: '/a' } });
    expect(env).toEqual({ PATH: '/bin', WANDB_API_KEY: 'w', HOME: '/s/h', TMPDIR: '/s/t', TMP: '/s/t', TEMP: '/s/t', STRATA_ARTIFACTS: '/a', STRATA_WITHHELD: 'HF_TOKEN' });
    expect(scrubEnvironment({ HOME: '/shared' }, { explicit: ['HOME'], home: '/s/h', tmp: '/s/t' }).HOME).toBe('/shared');
    // env_passthrough globs let names through, taken from the orchestrator when an earlier filter dropped them.
    const passed = scrubEnvironment({ PATH: '/bin' }, { explicit: [], passthrough: ['COMET_*'], home: '/s/h', tmp: '/s/t', original: { COMET_API_KEY: 'c', PGPASSWORD: 'p', PATH: '/bin' } });
    expect(passed).toMatchObject({ COMET_API_KEY: 'c', STRATA_WITHHELD: 'PGPASSWORD' });
    expect(matchesName('WANDB_API_KEY', ['WANDB_*'])).toBe(true);
    expect(matchesName('XWANDB_API_KEY', ['WANDB_*'])).toBe(false);
  });

  it('keeps the variables that point at CA certificates (public, and without them HTTPS fails behind a private CA), unless their value is a key', () => {
    for (const name of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NIX_SSL_CERT_FILE', 'PIP_CERT', 'AWS_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS']) {
      expect(isWithheld(name, '/etc/ssl/certs/ca-certificates.crt'), name).toBe(false);
    }
    expect(isWithheld('SSL_CERT_FILE', '-----BEGIN RSA PRIVATE KEY-----\nMIIE')).toBe(true);
    // A client certificate's key is still a key.
    expect(isWithheld('CLIENT_CERT_KEY', '/etc/ssl/private/client.key')).toBe(true);
  });

  it('without a HOME of its own (a coding agent), keeps HOME and the XDG folders', () => {
    const env = scrubEnvironment({ HOME: '/home/me', XDG_CONFIG_HOME: '/home/me/.config', AWS_SECRET_ACCESS_KEY: 'a' }, { explicit: [], tmp: '/s/t' });
    expect(env).toEqual({ HOME: '/home/me', XDG_CONFIG_HOME: '/home/me/.config', TMPDIR: '/s/t', TMP: '/s/t', TEMP: '/s/t', STRATA_WITHHELD: 'AWS_SECRET_ACCESS_KEY' });
  });
});
