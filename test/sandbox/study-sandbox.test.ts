import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeSandbox, type SandboxCapabilities } from '../../src/sandbox/sandbox-capabilities.ts';
import { StudySandbox, SandboxUnavailableError, type SandboxSettings } from '../../src/sandbox/study-sandbox.ts';
import type { Executor } from '../../src/core/executor.ts';
import { runProcess } from '../../src/executors/run-process.ts';
import { processExecutor, processesWith, request, sandboxLayout } from './sandbox-helpers.ts';

const capabilities = await probeSandbox();
/**
 * Tests of what bubblewrap enforces: skipped with the reason in their title
 * where this machine cannot have it, never in CI (which installs it).
 */
const withBubblewrap = (title: string, test: () => Promise<void>) =>
  it.skipIf(capabilities.namespaces === null && process.env.CI !== 'true')(
    capabilities.namespaces === null ? `${title} — skipped: no usable bubblewrap here (${capabilities.notes.join('; ')})` : title,
    test,
  );

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const settings = (overrides: Partial<SandboxSettings> = {}): SandboxSettings => ({ network: 'on', limits: {}, holdoutData: [], ...overrides });

async function open(layout: ReturnType<typeof sandboxLayout>, overrides: Partial<SandboxSettings> = {}, explicitEnv: string[] = []) {
  return StudySandbox.open({ settings: settings(overrides), repoRoot: layout.root, scratchDir: layout.scratch, hiddenFromTrials: [layout.ledger], explicitEnv, executorKind: 'local' });
}

function layout() {
  const made = sandboxLayout();
  cleanups.push(made.cleanup);
  return made;
}

const stage = (made: ReturnType<typeof sandboxLayout>, name = '1-1-run') => ({ name, workdir: made.workdir, artifacts: made.artifacts, artifactsWritable: true, readsHoldoutData: false });
const node = JSON.stringify(process.execPath);

describe('the study sandbox', () => {
  it('scrubs credentials and gives each run its own HOME, TMPDIR and STRATA_ARTIFACTS', async () => {
    const made = layout();
    const sandbox = await open(made, {}, ['WANDB_API_KEY']);
    const executor = sandbox.executorFor(processExecutor, stage(made));
    const script = `${node} -e "console.log(JSON.stringify({ home: process.env.HOME, tmp: process.env.TMPDIR, artifacts: process.env.STRATA_ARTIFACTS, openai: process.env.OPENAI_API_KEY ?? null, ssh: process.env.SSH_AUTH_SOCK ?? null, wandb: process.env.WANDB_API_KEY ?? null, path: Boolean(process.env.PATH) }))"`;
    const result = await executor.run(request(script, made.workdir, { OPENAI_API_KEY: 'sk-secret', SSH_AUTH_SOCK: '/run/agent', WANDB_API_KEY: 'passed-on-purpose' }));
    expect(result.exitCode).toBe(0);
    const seen = JSON.parse(result.output.trim().split('\n').at(-1)!);
    expect(seen).toMatchObject({ artifacts: made.artifacts, openai: null, ssh: null, wandb: 'passed-on-purpose', path: true });
    expect(seen.home).toBe(join(made.scratch, '1-1-run', 'home'));
    expect(seen.tmp).toBe(join(made.scratch, '1-1-run', 'tmp'));
    // the per-run folders are gone afterwards
    expect(existsSync(join(made.scratch, '1-1-run'))).toBe(false);
  });

  it.runIf(process.platform === 'linux')('kills a daemon that left the process group when the run ends', async () => {
    const made = layout();
    const sandbox = await open(made);
    // A unique duration names the daemon's process; detached: true makes it call setsid(), leaving the process group.
    const marker = `${300 + (process.pid % 1000) / 1000 + Math.round(Math.random() * 1e6) / 1e9}`;
    const daemon = `${node} -e "require('child_process').spawn('sleep', ['${marker}'], { detached: true, stdio: 'ignore' }).unref(); console.log('started')"`;
    const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(daemon, made.workdir));
    expect(result.output).toContain('started');
    if (capabilities.namespaces) expect(result.output).toMatch(/strata sandbox: killed processes the trial left running: sleep\(\d+\)/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const left = processesWith(marker);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    expect(left).toEqual([]);
  });

  withBubblewrap('makes the repository read-only except the trial folders, and hides the ledger', async () => {
    const made = layout();
    writeFileSync(made.ledger, 'holdout results live here');
    writeFileSync(join(made.root, 'prepare.py'), 'original');
    const sandbox = await open(made);
    const script = [
      `echo tampered > ${JSON.stringify(join(made.root, 'prepare.py'))} 2>/dev/null && echo wrote-repo`,
      `echo ok > out.txt && echo wrote-workdir`,
      `echo model > "$STRATA_ARTIFACTS/model.bin" && echo wrote-artifacts`,
      `echo "ledger:[$(cat ${JSON.stringify(made.ledger)})]"`,
    ].join('; ');
    const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(script, made.workdir));
    expect(result.output).not.toContain('wrote-repo');
    expect(result.output).toContain('wrote-workdir');
    expect(result.output).toContain('wrote-artifacts');
    expect(result.output).toContain('ledger:[]');
    expect(readFileSync(join(made.root, 'prepare.py'), 'utf8')).toBe('original');
    expect(readFileSync(made.ledger, 'utf8')).toBe('holdout results live here');
  });

  withBubblewrap('hides holdout data from trials but not from the holdout stage', async () => {
    const made = layout();
    const holdout = join(made.root, 'holdout');
    mkdirSync(holdout);
    writeFileSync(join(holdout, 'test.bin'), 'secret labels');
    const sandbox = await open(made, { holdoutData: [holdout] });
    const read = `cat ${JSON.stringify(join(holdout, 'test.bin'))} || echo unreadable`;
    const trial = await sandbox.executorFor(processExecutor, stage(made)).run(request(read, made.workdir));
    expect(trial.output).not.toContain('secret labels');
    expect(trial.output).toContain('unreadable');
    const holdoutStage = await sandbox.executorFor(processExecutor, { ...stage(made, '1-1-holdout'), readsHoldoutData: true, artifactsWritable: false }).run(request(read, made.workdir));
    expect(holdoutStage.output).toContain('secret labels');
  });

  describe('network: off', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((socket) => socket.end('hello\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
      return () => server.close();
    });
    const probe = () => `${node} -e "const s = require('net').connect(${port}, '127.0.0.1'); s.on('data', () => { console.log('reached'); process.exit(0); }); s.on('error', (e) => { console.log('blocked ' + e.code); process.exit(0); });"`;

    it('can reach the host with network on', async () => {
      const made = layout();
      const sandbox = await open(made);
      const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(probe(), made.workdir));
      expect(result.output).toContain('reached');
    });

    withBubblewrap('cannot reach the host with network off (loopback is the namespace’s own)', async () => {
      const made = layout();
      const sandbox = await open(made, { network: 'off' });
      expect(sandbox.summary).toContain('network off');
      const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(probe(), made.workdir));
      expect(result.output).toMatch(/blocked (ECONNREFUSED|ENETUNREACH)/);
    });
  });

  it('on a machine without namespaces, refuses network: off and holdout_data with what to install, and warns otherwise', async () => {
    const made = layout();
    const bare: SandboxCapabilities = { namespaces: null, cgroup: null, prlimit: '/usr/bin/prlimit', isRoot: false, notes: ['bubblewrap (bwrap) is not on the PATH'] };
    const base = { repoRoot: made.root, scratchDir: made.scratch, hiddenFromTrials: [], explicitEnv: [], executorKind: 'local', capabilities: bare };
    await expect(StudySandbox.open({ ...base, settings: settings({ network: 'off' }) })).rejects.toThrow(
      /research\.network: off needs a network namespace, which this machine cannot create \(bubblewrap \(bwrap\) is not on the PATH\); install bubblewrap \(apt-get install bubblewrap/,
    );
    await expect(StudySandbox.open({ ...base, settings: settings({ holdoutData: ['/data/test'] }) })).rejects.toThrow(/research\.holdout_data needs a sandbox to hide the holdout data/);
    const open = await StudySandbox.open({ ...base, settings: settings({ limits: { memoryBytes: 2 ** 30, processes: 64 } }) });
    expect(open.warnings.join('\n')).toMatch(/trials run unconfined \(bubblewrap \(bwrap\) is not on the PATH\): they can write the repository[\s\S]*install bubblewrap[\s\S]*RLIMIT_AS[\s\S]*RLIMIT_NPROC, counted per user/);
    // Still runs, under prlimit, with a scrubbed environment.
    const result = await open.executorFor(processExecutor, stage(made)).run(request('ulimit -v; echo "home=$HOME"', made.workdir));
    expect(result.output).toContain(`${2 ** 20}\n`);
    expect(result.output).toContain(`home=${join(made.scratch, '1-1-run', 'home')}`);
  });

  it('refuses network: off and holdout_data where it cannot enforce them', async () => {
    const made = layout();
    const options = { settings: settings({ network: 'off', holdoutData: ['/data/test'] }), repoRoot: made.root, scratchDir: made.scratch, hiddenFromTrials: [], explicitEnv: [], executorKind: 'slurm' };
    await expect(StudySandbox.open(options)).rejects.toBeInstanceOf(SandboxUnavailableError);
    await expect(StudySandbox.open(options)).rejects.toThrow(/network: off needs the local executor/);
  });

  it.runIf(process.platform === 'linux')('enforces a memory limit for the whole tree and says so', async () => {
    const made = layout();
    const sandbox = await open(made, { limits: { memoryBytes: 96 * 2 ** 20 } });
    if (!sandbox.summary.includes('cgroup')) return;
    const hog = `${node} -e "const a = []; for (let i = 0; i < 64; i++) { a.push(Buffer.alloc(16 * 2 ** 20, 1)); } console.log('survived')"`;
    const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(hog, made.workdir));
    expect(result.output).not.toContain('survived');
    expect(result.error).toMatch(/killed by the memory limit \(96 MiB\)/);
  });

  it.runIf(process.platform === 'linux')('enforces a process-count limit', async () => {
    const made = layout();
    const sandbox = await open(made, { limits: { processes: 8 } });
    if (!sandbox.summary.includes('cgroup')) return;
    const many = 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 2 & done; wait; echo all-started';
    const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(many, made.workdir));
    expect(result.output).toMatch(/Cannot fork|Resource temporarily unavailable/i);
    expect(result.output).not.toContain('all-started');
  });

  describe('with bubblewrap', () => {
    withBubblewrap('leaves the trial no capability, whoever started Strata, and no_new_privs', async () => {
      const made = layout();
      const sandbox = await open(made);
      const result = await sandbox.executorFor(processExecutor, stage(made)).run(request("grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status", made.workdir));
      expect(result.output).toMatch(/CapPrm:\s+0+\n/);
      expect(result.output).toMatch(/CapEff:\s+0+\n/);
      expect(result.output).toMatch(/NoNewPrivs:\s+1/);
    });

    withBubblewrap('keeps the worktree\'s .git pointer, the checkout and the rest of the machine read-only; /tmp private; only sandbox_writable and sandbox_readable added', async () => {
      const made = layout();
      writeFileSync(join(made.workdir, '.git'), 'gitdir: /somewhere/else\n');
      const shared = join(made.root, 'shared-cache');
      mkdirSync(shared);
      const outsideTmp = mkdtempSync(join(tmpdir(), 'strata-readable-'));
      cleanups.push(() => rmSync(outsideTmp, { recursive: true, force: true }));
      writeFileSync(join(outsideTmp, 'dataset.txt'), 'rows');
      const script = [
        `echo gitdir: /tmp/evil > .git 2>/dev/null && echo pointer-written`,
        `echo x > ${JSON.stringify(join(shared, 'w'))} && echo shared-written`,
        `cat ${JSON.stringify(join(outsideTmp, 'dataset.txt'))} 2>/dev/null || echo dataset-unreadable`,
        `echo "tmp:[$(ls -A /tmp | tr '\\n' ' ')]"`,
      ].join('; ');
      const plain = await (await open(made)).executorFor(processExecutor, stage(made)).run(request(script, made.workdir));
      expect(plain.output).not.toContain('pointer-written');
      expect(plain.output).not.toContain('shared-written');
      expect(plain.output).toContain('dataset-unreadable');
      // In /tmp only the folder of the repository (which lives there in tests), none of the host's files or sockets.
      expect(plain.output).toContain(`tmp:[${basename(made.root)} ]`);
      expect(readFileSync(join(made.workdir, '.git'), 'utf8')).toBe('gitdir: /somewhere/else\n');
      const widened = await (await open(made, { writable: [shared], readable: [outsideTmp] })).executorFor(processExecutor, stage(made)).run(request(script, made.workdir));
      expect(widened.output).toContain('shared-written');
      expect(widened.output).toContain('rows');
    });

    withBubblewrap('keeps a HOME that research.env sets read-only unless sandbox_writable lists it', async () => {
      const made = layout();
      const shared = join(made.root, 'shared-home');
      mkdirSync(shared);
      const script = `echo "home=$HOME"; { echo x > "$HOME/.cache-entry"; } 2>/dev/null && echo home-written || echo home-refused`;
      const plain = await (await open(made, {}, ['HOME'])).executorFor(processExecutor, stage(made)).run(request(script, made.workdir, { HOME: shared }));
      expect(plain.output).toContain(`home=${shared}`);
      expect(plain.output).toContain('home-refused');
      expect(existsSync(join(shared, '.cache-entry'))).toBe(false);
      const listed = await (await open(made, { writable: [shared] }, ['HOME'])).executorFor(processExecutor, stage(made)).run(request(script, made.workdir, { HOME: shared }));
      expect(listed.output).toContain('home-written');
    });

    withBubblewrap('lets only the run stage write the artifacts; evaluate and holdout read them', async () => {
      const made = layout();
      writeFileSync(join(made.artifacts, 'model.json'), '{"x":1}');
      const script = `cat "$STRATA_ARTIFACTS/model.json"; echo forged > "$STRATA_ARTIFACTS/model.json" 2>/dev/null && echo artifacts-written`;
      const evaluate = await (await open(made)).executorFor(processExecutor, { ...stage(made, '1-1-evaluate'), artifactsWritable: false }).run(request(script, made.workdir));
      expect(evaluate.output).toContain('{"x":1}');
      expect(evaluate.output).not.toContain('artifacts-written');
      const run = await (await open(made)).executorFor(processExecutor, stage(made)).run(request(script, made.workdir));
      expect(run.output).toContain('artifacts-written');
    });

    withBubblewrap("hides the credential files of agents, clouds, registries, ssh and the Hugging Face token, and withholds secret-looking variables but env_passthrough's", async () => {
      const made = layout();
      // A HOME the trial could otherwise read (inside the repository, which it sees read-only): only the list hides these.
      const home = join(made.root, 'home');
      const files = [
        '.claude/.credentials.json',
        '.codex/auth.json',
        '.aws/credentials',
        '.config/gcloud/application_default_credentials.json',
        '.azure/msal_token_cache.json',
        '.ssh/id_ed25519',
        '.netrc',
        '.git-credentials',
        '.docker/config.json',
        '.kube/config',
        '.npmrc',
        '.pypirc',
        '.cache/huggingface/token',
        '.huggingface/token',
        '.bash_history',
      ];
      for (const [index, file] of files.entries()) {
        mkdirSync(join(home, file, '..'), { recursive: true });
        writeFileSync(join(home, file), `secret-${index}-value`);
      }
      writeFileSync(join(home, '.bashrc'), 'plain-file');
      writeFileSync(join(made.root, '.env'), 'secret-env-value');
      const savedHome = process.env.HOME;
      process.env.HOME = home;
      cleanups.push(() => {
        process.env.HOME = savedHome;
      });
      const sandbox = await open(made, { envPassthrough: ['WANDB_*'] });
      const paths = [...files.map((file) => join(home, file)), join(home, '.bashrc'), join(made.root, '.env')];
      const script = `for f in ${paths.map((path) => JSON.stringify(path)).join(' ')}; do cat "$f" 2>/dev/null; echo; done; echo "withheld: $STRATA_WITHHELD | wandb: $WANDB_API_KEY"`;
      const secrets = { PGPASSWORD: 'v1', DB_PASS: 'v2', MYSQL_PASSWD: 'v3', SERVICE_TOKEN: 'v4', APP_SECRET: 'v5', API_KEY: 'v6', GCP_CREDENTIALS: 'v7', WANDB_API_KEY: 'passed' };
      const result = await sandbox.executorFor(processExecutor, stage(made)).run(request(script, made.workdir, secrets));
      expect(result.output).toContain('plain-file');
      expect(result.output).not.toMatch(/secret-(\d+|env)-value/);
      const [withheld, wandb] = /withheld: (.*) \| wandb: (.*)/.exec(result.output)!.slice(1) as [string, string];
      // The orchestrator's own secret-looking names are listed too: only those of the request are known here.
      expect(withheld.split(' ')).toEqual(expect.arrayContaining(['API_KEY', 'APP_SECRET', 'DB_PASS', 'GCP_CREDENTIALS', 'MYSQL_PASSWD', 'PGPASSWORD', 'SERVICE_TOKEN']));
      expect(withheld.split(' ')).not.toContain('WANDB_API_KEY');
      expect(wandb).toBe('passed');
      expect(result.output).not.toMatch(/\bv[1-7]\b/);
    });

    withBubblewrap('shows trials the git config without the token in a remote URL', async () => {
      const made = layout();
      mkdirSync(join(made.root, '.git'));
      writeFileSync(join(made.root, '.git', 'config'), '[remote "origin"]\n\turl = https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/me/repo\n');
      const result = await (await open(made)).executorFor(processExecutor, stage(made)).run(request(`cat ${JSON.stringify(join(made.root, '.git', 'config'))}`, made.workdir));
      expect(result.output).toContain('url = https://github.com/me/repo');
      expect(result.output).not.toContain('ghp_');
    });

    withBubblewrap("shows trials the user's own git config without the tokens people keep there (a token in an insteadOf URL, an http.extraHeader)", async () => {
      const made = layout();
      // A HOME the trial could otherwise read (inside the repository, which it sees read-only).
      const home = join(made.root, 'home');
      mkdirSync(join(home, '.config', 'git'), { recursive: true });
      writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Me\n[url "https://x-access-token:ghs_globaltokenvalue0123456789@github.com/"]\n\tinsteadOf = https://github.com/\n');
      writeFileSync(join(home, '.config', 'git', 'config'), '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic eGNyZWRlbnRpYWxz\n');
      const savedHome = process.env.HOME;
      process.env.HOME = home;
      cleanups.push(() => {
        process.env.HOME = savedHome;
      });
      const files = [join(home, '.gitconfig'), join(home, '.config', 'git', 'config')].map((path) => JSON.stringify(path)).join(' ');
      const result = await (await open(made)).executorFor(processExecutor, stage(made)).run(request(`cat ${files}`, made.workdir));
      expect(result.output).toContain('name = Me');
      expect(result.output).toContain('[url "https://github.com/"]');
      expect(result.output).toContain('extraheader = (removed by Strata)');
      expect(result.output).not.toContain('ghs_globaltokenvalue');
      expect(result.output).not.toContain('eGNyZWRlbnRpYWxz');
      // The files themselves are untouched.
      expect(readFileSync(join(home, '.gitconfig'), 'utf8')).toContain('ghs_globaltokenvalue');
    });

    withBubblewrap('lets a trial stop gracefully on SIGTERM (a stop, or budget + grace)', async () => {
      const made = layout();
      const trainer = `${node} -e "process.on('SIGTERM', () => { console.log('checkpoint saved'); process.exit(0); }); console.log('training'); setInterval(() => {}, 1000)"`;
      // SIGTERM goes to the process group once the trainer says it listens for it: the same signal budget + grace sends.
      const stop = new AbortController();
      const stopping: Executor = {
        kind: 'local',
        run: (job) => runProcess({ ...job, signal: stop.signal, onOutput: (chunk) => chunk.includes('training') && stop.abort() }),
      };
      const result = await (await open(made)).executorFor(stopping, stage(made)).run(request(trainer, made.workdir));
      expect(result.status).toBe('interrupted');
      expect(result.output).toContain('checkpoint saved');
    });

    withBubblewrap('says the sandbox could not be set up, naming what bubblewrap said, instead of blaming the trial; a trial that fakes the line is just a crash', async () => {
      const made = layout();
      const broken: SandboxCapabilities = { ...capabilities, namespaces: { ...capabilities.namespaces!, path: '/bin/false' } };
      const base = { settings: settings(), repoRoot: made.root, scratchDir: made.scratch, hiddenFromTrials: [], explicitEnv: [], executorKind: 'local' };
      const failing = await StudySandbox.open({ ...base, capabilities: broken });
      const error = await failing.executorFor(processExecutor, stage(made)).run(request('echo never', made.workdir)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SandboxUnavailableError);
      expect((error as Error).message).toMatch(/^the sandbox could not be set up for 1-1-run \(.*\); this is the machine, not the training script: install bubblewrap/);
      const faking = await (await open(made)).executorFor(processExecutor, stage(made)).run(request("echo 'bwrap: Can not mount anything' >&2; exit 1", made.workdir));
      expect(faking).toMatchObject({ status: 'exited', exitCode: 1 });
    });
  });
});
