// Orchestration overhead per trial: a study of no-op trials (the trainer is
// one `echo`), timed from the ledger. Overhead = time between the end of one
// trial's process and the end of the next, minus that process's own wall time
// — worktree, proposal, commit, ledger, metric parse, cleanup.
//
// Beside it, in the same process: a bare spawn of the same command, and the
// git floor (worktree add + commit + remove as plain git commands). The
// breakdown says where the overhead goes: each step's time outside the trial
// processes (what lies on the critical path), per trial, and the git
// processes started per trial (from GIT_TRACE2_EVENT). The sandbox's own cost
// is reported apart: its setup and teardown around each run, and what it adds
// to the trial process's wall time (namespaces, cgroup, leftover sweep).
//
// Run: npx node bench/overhead.ts [trials=40]
//      npx node bench/overhead.ts [trials=40] --baseline <checkout of an older commit> [--rounds 3]
// With --baseline the same measurement runs alternately against that
// checkout's src/ and this one's, each in a fresh process, and the rows are
// printed side by side.
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Measurement {
  src: string;
  trials: number;
  totalS: number;
  medianOverheadMs: number;
  p90OverheadMs: number;
  medianProcessMs: number;
  bareSpawnMs: number;
  floorMs: number;
  ratio: number;
  /** ms per trial spent in each step outside the trial processes. */
  steps: Record<string, number>;
  /** git processes started per trial, and the time they ran outside the trial processes. */
  gitPerTrial: number;
  gitMsPerTrial: number;
  gitByCommand: Record<string, number>;
  /** The sandbox: setup + teardown per trial, and median process wall minus bare spawn. */
  sandboxSetupMs: number;
  sandboxProcessMs: number;
}

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const positional = argv.filter((arg, index) => !arg.startsWith('--') && !(index > 0 && argv[index - 1]!.startsWith('--')));
const trials = Number(positional[0] ?? 40);
const here = resolve(import.meta.dirname, '..');

if (option('--child') !== undefined) {
  process.stdout.write(`RESULT ${JSON.stringify(await measure(option('--child')!, trials))}\n`);
} else if (option('--baseline') !== undefined) {
  const baseline = resolve(option('--baseline')!);
  const rounds = Number(option('--rounds') ?? 3);
  const results: { base: Measurement[]; current: Measurement[] } = { base: [], current: [] };
  const load = [loadavg()[0]!];
  for (let round = 0; round < rounds; round++) {
    for (const [key, src] of [['base', baseline], ['current', here]] as const) {
      const child = spawnSync(process.execPath, [import.meta.filename, String(trials), '--child', src], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const line = child.stdout.split('\n').find((text) => text.startsWith('RESULT '));
      if (!line) throw new Error(`bench child for ${src} failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
      results[key].push(JSON.parse(line.slice('RESULT '.length)) as Measurement);
      load.push(loadavg()[0]!);
    }
  }
  console.log(`load average (1 min) during the run: ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} on ${navigator.hardwareConcurrency} cores`);
  console.log(`baseline: ${baseline}\ncurrent:  ${here}\n`);
  printSideBySide(results.base, results.current);
} else {
  const load = loadavg()[0]!;
  const result = await measure(here, trials);
  console.log(`load average (1 min): ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${navigator.hardwareConcurrency} cores`);
  printSideBySide([], [result]);
}

async function measure(srcRoot: string, count: number): Promise<Measurement> {
  const from = (path: string) => import(pathToFileURL(join(srcRoot, path)).href);
  const { parseConfig } = await from('src/core/config/parse-config.ts');
  const { Ledger } = await from('src/ledger/ledger.ts');
  const { runResearch } = await from('src/research/run-research.ts');
  const { StudyRepository } = await from('src/workspace/study-repository.ts');
  const { IntegrityGuard } = await from('src/integrity/integrity-guard.ts');
  const { StudySandbox } = await from('src/sandbox/study-sandbox.ts');
  const { LocalExecutor } = await from('src/executors/local-executor.ts');
  const { SearchProposer } = await from('src/proposers/search/search-proposer.ts');

  // Spans of each step, by wall clock; a step called inside another counts in the outer one (except the trial process).
  const spans: { step: string; start: number; end: number }[] = [];
  const inside = new AsyncLocalStorage<string>();
  const wrap = (target: Record<string, unknown> | undefined, method: string, step: string, always = false) => {
    const original = target?.[method];
    if (!target || typeof original !== 'function') return;
    target[method] = function (this: unknown, ...args: unknown[]) {
      if (!always && inside.getStore() !== undefined) return original.apply(this, args);
      const start = performance.timeOrigin + performance.now();
      const done = () => spans.push({ step, start, end: performance.timeOrigin + performance.now() });
      return inside.run(step, () => {
        const result = original.apply(this, args);
        if (result instanceof Promise) return result.finally(done);
        done();
        return result;
      });
    };
  };
  const repo = StudyRepository.prototype;
  wrap(repo, 'prepareWorktree', 'git: checkout');
  wrap(repo, 'createWorktree', 'git: checkout');
  wrap(repo, 'commitWorktree', 'git: candidate commit');
  wrap(repo, 'commitCandidate', 'git: candidate commit');
  wrap(repo, 'moveRef', 'git: refs');
  wrap(repo, 'cleanWorktree', 'git: clean');
  wrap(repo, 'removeWorktree', 'git: clean');
  for (const method of ['commitTreeOnto', 'resolveCommit', 'isAncestor']) wrap(repo, method, 'git: keep');
  wrap(IntegrityGuard.prototype, 'checkBeforeRun', 'integrity checks');
  wrap(IntegrityGuard.prototype, 'checkAfterRun', 'integrity checks');
  wrap(StudySandbox.prototype, 'run', 'sandbox setup + teardown');
  // The trial process: from the spawn for its own wall time; what the executor does after it exits (the leftover check) is a step.
  const localRun = LocalExecutor.prototype.run as (...args: unknown[]) => Promise<{ wallMs: number }>;
  LocalExecutor.prototype.run = async function (this: unknown, ...args: unknown[]) {
    const start = performance.timeOrigin + performance.now();
    const result = await localRun.apply(this, args);
    const end = performance.timeOrigin + performance.now();
    spans.push({ step: 'process', start, end: Math.min(end, start + result.wallMs) });
    spans.push({ step: 'executor: after the process exits', start: Math.min(end, start + result.wallMs), end });
    return result;
  };
  wrap(SearchProposer.prototype, 'propose', 'proposer (TPE)');
  wrap(Ledger.prototype, 'transaction', 'ledger writes');
  wrap(Ledger.prototype, 'trials', 'ledger reads');
  wrap(Ledger.prototype, 'trial', 'ledger reads');

  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const gitTrace = join(dir, '..', `${dir.split('/').pop()}-trace2.json`);
  process.env.GIT_TRACE2_EVENT = gitTrace;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'train.sh'), 'echo "METRIC loss=${STRATA_PARAM_X:-0.5}"\n');
  const yaml = `name: overhead
research:
  editable: [train.sh]
  run: sh train.sh
  budget: 30s
  metric: {name: loss, goal: minimize}
  params: {x: {type: float, low: 0, high: 1}}
  search: {sampler: random, seed: 1}
  max_trials: ${count}
`;
  writeFileSync(join(dir, 'strata.yaml'), yaml);
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'init');

  const started = performance.now();
  await runResearch({ configPath: join(dir, 'strata.yaml'), config: parseConfig(yaml) });
  const totalMs = performance.now() - started;

  const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
  if (process.env.BENCH_EVENTS) for (const e of ledger.events(1)) console.log(e.createdAt.slice(17), e.type, e.trialId ?? '');
  const rows = ledger.trials(1) as { endedAt: string; wallMs: number | null }[];
  ledger.close();
  const overheads: number[] = [];
  for (let i = 1; i < rows.length; i++) overheads.push(Date.parse(rows[i]!.endedAt) - Date.parse(rows[i - 1]!.endedAt) - (rows[i]!.wallMs ?? 0));
  const processMs = rows.map((row) => row.wallMs ?? 0);

  // The breakdown: from the end of the first trial process to the end of the last, what each step took outside the processes.
  const processes = spans.filter((span) => span.step === 'process').sort((a, b) => a.start - b.start);
  const windowStart = processes[0]!.end;
  const windowEnd = processes[processes.length - 1]!.end;
  /** Time of [start, end] inside the window and outside every interval of `excluded` (sorted by start). */
  const outside = (start: number, end: number, excluded: readonly { start: number; end: number }[]): number => {
    let from = Math.max(start, windowStart);
    const to = Math.min(end, windowEnd);
    let total = 0;
    for (const run of excluded) {
      if (from >= to) break;
      if (run.end <= from) continue;
      if (run.start >= to) break;
      if (run.start > from) total += run.start - from;
      from = Math.max(from, run.end);
    }
    return total + Math.max(0, to - from);
  };
  const outsideProcesses = (start: number, end: number) => outside(start, end, processes);
  // The sandbox's span holds the executor's: its own part is what lies outside both.
  const executorSpans = spans.filter((span) => span.step === 'process' || span.step === 'executor: after the process exits').sort((a, b) => a.start - b.start);
  const ownTime = (span: { step: string; start: number; end: number }) => (span.step === 'sandbox setup + teardown' ? outside(span.start, span.end, executorSpans) : outsideProcesses(span.start, span.end));
  const perTrial = processes.length - 1;
  const steps: Record<string, number> = {};
  for (const span of spans) {
    if (span.step === 'process') continue;
    steps[span.step] = (steps[span.step] ?? 0) + ownTime(span) / perTrial;
  }
  const totalOverhead = outsideProcesses(windowStart, windowEnd) / perTrial;
  const attributed = Object.values(steps).reduce((sum, value) => sum + value, 0);
  steps['rest (scheduler, events, Node)'] = totalOverhead - attributed;
  steps['total outside the trial processes'] = totalOverhead;

  // git processes in the window, from the trace2 event stream (top-level processes only: their children are inside them).
  const gitByCommand: Record<string, number> = {};
  let gitCount = 0;
  let gitMs = 0;
  const starts = new Map<string, { at: number; command: string }>();
  for (const line of readFileSync(gitTrace, 'utf8').split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as { event: string; sid: string; time: string; argv?: string[]; t_abs?: number };
    if (event.sid.includes('/')) continue;
    const at = Date.parse(event.time) + (Number(event.time.slice(23, 26)) || 0) / 1000;
    if (event.event === 'start') {
      const args = (event.argv ?? []).slice(1).filter((arg, index, all) => arg !== '-c' && all[index - 1] !== '-c');
      starts.set(event.sid, { at, command: args.slice(0, args[1]?.startsWith('--') ? 2 : 1).join(' ') });
    } else if (event.event === 'exit' || event.event === 'atexit') {
      const begun = starts.get(event.sid);
      if (!begun) continue;
      starts.delete(event.sid);
      if (begun.at < windowStart || begun.at > windowEnd) continue;
      gitCount += 1;
      gitMs += outsideProcesses(begun.at, at);
      gitByCommand[begun.command] = (gitByCommand[begun.command] ?? 0) + 1;
    }
  }
  for (const key of Object.keys(gitByCommand)) gitByCommand[key] = gitByCommand[key]! / perTrial;

  // Baseline: the same trial command spawned bare, with no orchestration at all.
  const bare: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    spawnSync('sh', ['train.sh'], { cwd: dir, env: { STRATA_PARAM_X: '0.5' } });
    bare.push(performance.now() - t);
  }
  // Floor: the git work a trial cannot avoid (worktree add + commit + remove), as plain git commands.
  delete process.env.GIT_TRACE2_EVENT;
  const floor: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const wt = join(dir, '.strata', `floor-${i}`);
    git('worktree', 'add', '--quiet', '--detach', '--force', wt, 'HEAD');
    writeFileSync(join(wt, 'strata.params.json'), `{"x": ${i}}\n`);
    execFileSync('git', ['add', '-A'], { cwd: wt });
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'x'], { cwd: wt });
    git('worktree', 'remove', '--force', wt);
    floor.push(performance.now() - t);
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(gitTrace, { force: true });
  const sandboxSpans = spans.filter((span) => span.step === 'sandbox setup + teardown');
  const sandboxSetup = sandboxSpans.reduce((sum, span) => sum + ownTime(span), 0) / perTrial;
  return {
    src: srcRoot,
    trials: rows.length,
    totalS: totalMs / 1000,
    medianOverheadMs: median(overheads),
    p90OverheadMs: [...overheads].sort((a, b) => a - b)[Math.floor(overheads.length * 0.9)]!,
    medianProcessMs: median(processMs),
    bareSpawnMs: median(bare),
    floorMs: median(floor),
    ratio: median(overheads) / median(floor),
    steps,
    gitPerTrial: gitCount / perTrial,
    gitMsPerTrial: gitMs / perTrial,
    gitByCommand,
    sandboxSetupMs: sandboxSetup,
    sandboxProcessMs: median(processMs) - median(bare),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
}

/** Rows of each measurement (columns: the baseline's runs, then the current ones), medians across runs at the end. */
function printSideBySide(base: Measurement[], current: Measurement[]): void {
  const columns = [...base.map((_, i) => `base ${i + 1}`), ...current.map((_, i) => (base.length > 0 ? `new ${i + 1}` : 'run'))];
  const all = [...base, ...current];
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const rows: [string, (m: Measurement) => string][] = [
    ['trials', (m) => `${m.trials} in ${m.totalS.toFixed(2)} s`],
    ['median orchestration overhead per trial', (m) => ms(m.medianOverheadMs)],
    ['p90', (m) => ms(m.p90OverheadMs)],
    ['git floor (worktree add + commit + remove)', (m) => ms(m.floorMs)],
    ['overhead ÷ git floor', (m) => `${m.ratio.toFixed(2)}x`],
    ['  the same less the sandbox setup + teardown', (m) => `${((m.medianOverheadMs - m.sandboxSetupMs) / m.floorMs).toFixed(2)}x`],
    ['median trial process wall time', (m) => ms(m.medianProcessMs)],
    ['bare spawn of the same command', (m) => ms(m.bareSpawnMs)],
    ['sandbox: setup + teardown per trial', (m) => ms(m.sandboxSetupMs)],
    ['sandbox: added to the process wall time', (m) => ms(m.sandboxProcessMs)],
    ['git processes per trial (outside-process ms)', (m) => `${m.gitPerTrial.toFixed(1)} (${m.gitMsPerTrial.toFixed(1)} ms)`],
  ];
  const stepNames = [...new Set(all.flatMap((m) => Object.keys(m.steps)))];
  for (const name of stepNames) rows.push([`  step: ${name}`, (m) => (m.steps[name] === undefined ? '—' : ms(m.steps[name]!))]);
  const commands = [...new Set(all.flatMap((m) => Object.keys(m.gitByCommand)))].sort();
  for (const name of commands) rows.push([`  git ${name} per trial`, (m) => (m.gitByCommand[name] ?? 0).toFixed(2)]);
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`${''.padEnd(width)} | ${columns.map((c) => c.padStart(16)).join(' | ')}`);
  for (const [label, cell] of rows) console.log(`${label.padEnd(width)} | ${all.map((m) => cell(m).padStart(16)).join(' | ')}`);
  if (base.length > 0 && current.length > 0) {
    const ratio = (list: Measurement[]) => median(list.map((m) => m.ratio));
    const overhead = (list: Measurement[]) => median(list.map((m) => m.medianOverheadMs));
    const lessSandbox = (list: Measurement[]) => median(list.map((m) => (m.medianOverheadMs - m.sandboxSetupMs) / m.floorMs));
    console.log(`\nmedian over runs: overhead ${ms(overhead(base))} → ${ms(overhead(current))}; overhead ÷ git floor ${ratio(base).toFixed(2)}x → ${ratio(current).toFixed(2)}x; less the sandbox's setup + teardown ${lessSandbox(base).toFixed(2)}x → ${lessSandbox(current).toFixed(2)}x`);
  }
}
