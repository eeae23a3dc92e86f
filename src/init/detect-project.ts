import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { MetricGoal } from '../core/trial.ts';
import { goalFromName, isResourceMetric, programHints, type ProgramHints } from './metric-guess.ts';
import { printedMetricNames, summaryMetricNames, timeBudget } from './script-source.ts';

/** A value `strata init` guessed, and why (written next to it as a comment). */
export interface Guess<T> {
  value: T;
  why: string;
}

/** How proposals will be made: an LLM agent, an external coding agent, or a search over parameters. */
export type ProposerGuess =
  | { kind: 'agent'; model: string; keyEnv: string; keySet: boolean }
  | { kind: 'command'; command: string }
  | { kind: 'search' };

/** What `strata init` found in a folder; `todos` name what it could not guess. */
export interface Detection {
  name: string;
  /** `autoresearch`: program.md + train.py + prepare.py, or a pyproject/uv project with a train script. */
  layout: 'autoresearch' | 'generic';
  editable?: Guess<string[]>;
  protected: Guess<string[]>;
  run?: Guess<string>;
  metric?: Guess<{ name: string; goal: MetricGoal; pattern: string }>;
  secondary?: Guess<string[]>;
  budget: Guess<string>;
  program?: Guess<string>;
  proposer: Guess<ProposerGuess>;
  /** Variables for research.env: HOME when the scripts or uv keep state under the user's home (trials otherwise get a fresh HOME each). */
  env?: Guess<Record<string, string>>;
  /** Stop the study after this long (a night), so an agent cannot run up costs forever. */
  maxTime?: Guess<string>;
  todos: string[];
}

/** What init may know of the machine: which commands are on PATH, and the environment (for API key names only). */
export interface MachineFacts {
  hasCommand(name: string): boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home folder. */
  home: string;
}

const TRAIN_SCRIPTS = ['train.py', 'train.ts', 'train.mjs', 'train.js', 'main.py'];
const HARNESS_FILES = ['prepare.py', 'prepare.ts', 'evaluate.py', 'evaluate.ts', 'eval.py'];
const ENVIRONMENT_FILES = ['pyproject.toml', 'uv.lock', 'requirements.txt', '.python-version', 'package.json', 'package-lock.json'];
const DATA_DIRS = ['data', 'dataset', 'datasets'];
/** Python or JavaScript that reads the user's home folder (autoresearch keeps its data in ~/.cache/autoresearch). */
const USES_HOME = /expanduser\(|Path\.home\(\)|os\.homedir\(\)|["'`]~\//;

/**
 * Look at a folder and guess a research study. An autoresearch-style
 * repository (program.md + train.py + prepare.py, or a pyproject/uv project
 * with a train script) gets a complete study: train.py editable, the harness
 * and environment protected, its run command, the metric it prints, its
 * program and a budget above its own. Anything else gets what can be seen and
 * a TODO for each thing that cannot. Reads files; runs nothing.
 *
 * @example
 * const detection = detectProject('/path/to/autoresearch', machineFacts());
 * detection.metric?.value; // { name: 'val_bpb', goal: 'minimize', pattern: '^val_bpb:\\s*(\\S+)' }
 */
export function detectProject(dir: string, machine: MachineFacts): Detection {
  const files = new Set(readdirSync(dir));
  const read = (file: string) => (files.has(file) && statSync(join(dir, file)).isFile() ? readFileSync(join(dir, file), 'utf8') : undefined);
  const train = TRAIN_SCRIPTS.find((file) => files.has(file));
  const program = files.has('program.md') ? programHints(read('program.md') ?? '') : undefined;
  const hasPythonProject = files.has('pyproject.toml') || files.has('uv.lock');
  const autoresearch = train === 'train.py' && ((files.has('program.md') && files.has('prepare.py')) || hasPythonProject);
  const todos: string[] = [];
  const detection: Detection = {
    name: slug(basename(resolve(dir))),
    layout: autoresearch ? 'autoresearch' : 'generic',
    protected: protectedFiles(files),
    budget: { value: '5m', why: 'no time budget constant found in the scripts; 5m is a placeholder' },
    proposer: { value: { kind: 'search' }, why: 'placeholder' },
    todos,
  };

  if (train) {
    detection.editable = { value: [train], why: `${train} is the training script: the only file a proposer may change` };
    detection.run = runCommand(train, files, machine, program);
  } else {
    todos.push(`no training script found (looked for ${TRAIN_SCRIPTS.join(', ')}): set research.editable and research.run`);
  }
  if (detection.protected.value.length === 0) {
    todos.push('no evaluation harness or data folder found: list the files trials must not change in research.protected');
  }

  const sources = [train, ...HARNESS_FILES].filter((file): file is string => file !== undefined).map((file) => ({ file, text: read(file) }));
  const trainSource = train ? (read(train) ?? '') : '';
  const metric = guessMetric(trainSource, program);
  if (metric) {
    detection.metric = metric;
    const secondary = printedMetricNames(trainSource).filter((name) => name !== metric.value.name && isResourceMetric(name));
    if (secondary.length > 0) detection.secondary = { value: secondary, why: `${train} prints ${secondary.join(', ')}: recorded and shown with every trial` };
  } else {
    todos.push(
      `could not tell which metric to optimize${train ? ` (${train} prints no line like \`val_loss: <number>\`)` : ''}: set research.metric.name, goal and pattern, or print \`METRIC <name>=<number>\``,
    );
  }

  for (const { file, text } of sources) {
    const found = text === undefined ? undefined : timeBudget(text);
    if (!found) continue;
    const seconds = budgetAbove(found.seconds);
    detection.budget = {
      value: formatSeconds(seconds),
      why: `${file} trains for ${found.constant} = ${found.seconds}s; start-up, compilation and evaluation come on top`,
    };
    break;
  }
  if (detection.budget.why.startsWith('no time budget')) todos.push('no time budget constant (TIME_BUDGET = <seconds>) found: check research.budget');

  const homeUsers = sources.filter(({ text }) => text !== undefined && USES_HOME.test(text)).map(({ file }) => file);
  const uv = detection.run?.value.startsWith('uv ') ?? false;
  if (homeUsers.length > 0 || uv) {
    const reasons = [...(homeUsers.length > 0 ? [`${homeUsers.join(' and ')} keep${homeUsers.length === 1 ? 's' : ''} data under ~`] : []), ...(uv ? ['uv keeps its package cache under ~/.cache/uv'] : [])];
    detection.env = { value: { HOME: machine.home }, why: `${reasons.join('; ')}: trials get a fresh, empty HOME unless research.env names one` };
  }

  if (autoresearch) {
    if (files.has('program.md')) detection.program = { value: 'program.md', why: 'program.md holds your research instructions; the agent reads it first' };
    detection.proposer = agentChoice(machine, todos);
    detection.maxTime = { value: '8h', why: 'a night; the study resumes where it stopped if you run it again' };
  } else {
    detection.proposer = { value: { kind: 'search' }, why: 'search needs no LLM: it tries values of research.params, which the script reads from strata.params.json' };
    todos.push('declare research.params (the search space) and read them in the script from strata.params.json, or use proposer: agent');
  }
  return detection;
}

function protectedFiles(files: Set<string>): Guess<string[]> {
  const harness = HARNESS_FILES.filter((file) => files.has(file));
  const environment = ENVIRONMENT_FILES.filter((file) => files.has(file));
  const data = DATA_DIRS.filter((dir) => files.has(dir)).map((dir) => `${dir}/**`);
  const parts = [
    harness.length > 0 ? `${harness.join(', ')} (data, tokenizer, evaluation)` : '',
    environment.length > 0 ? `${environment.join(', ')} (dependencies)` : '',
    data.length > 0 ? `${data.join(', ')} (data)` : '',
  ].filter(Boolean);
  return { value: [...harness, ...environment, ...data], why: parts.length > 0 ? `must stay fixed for results to compare: ${parts.join('; ')}` : 'nothing found to protect' };
}

function runCommand(train: string, files: Set<string>, machine: MachineFacts, program: ProgramHints | undefined): Guess<string> {
  if (!train.endsWith('.py')) return { value: `node ${train}`, why: `${train} is JavaScript/TypeScript` };
  const uvProject = files.has('uv.lock') || files.has('pyproject.toml');
  const programSays = program?.runCommand ? ` (program.md says \`${program.runCommand}\`)` : '';
  if (uvProject && machine.hasCommand('uv')) {
    return { value: `uv run ${train}`, why: `a uv project and uv is on PATH${programSays}; uv builds each trial's environment from its cache` };
  }
  const python = machine.hasCommand('python3') || !machine.hasCommand('python') ? 'python3' : 'python';
  const missingUv = uvProject ? `; uv is not on PATH, so ${python} must have the project's packages (or install uv: https://docs.astral.sh/uv/)` : '';
  return { value: `${python} ${train}`, why: `${python} runs ${train}${programSays}${missingUv}` };
}

function guessMetric(trainSource: string, program: ProgramHints | undefined): Detection['metric'] {
  const printed = printedMetricNames(trainSource);
  const summary = summaryMetricNames(trainSource);
  const candidates = [
    ...(program?.grepped ?? []).filter((name) => !isResourceMetric(name)).map((name) => ({ name, source: `program.md greps for \`^${name}:\`` })),
    ...summary.filter((name) => goalFromName(name) !== undefined).map((name) => ({ name, source: `the script's end-of-run summary prints \`${name}:\`` })),
    ...printed.filter((name) => goalFromName(name) !== undefined).map((name) => ({ name, source: `the script prints \`${name}:\`` })),
  ];
  for (const { name, source } of candidates) {
    const stated = program?.goalFor(name);
    const goal = stated ?? goalFromName(name);
    if (!goal) continue;
    const goalWhy = stated ? `program.md asks for the ${goal === 'minimize' ? 'lowest' : 'highest'} ${name}` : `${goal === 'minimize' ? 'lower' : 'higher'} is better for a name like ${name}`;
    const printedAs = printed.includes(name) && !trainSource.includes(`METRIC ${name}=`) ? 'line' : 'metric';
    const pattern = printedAs === 'line' ? `^${name.replace(/\./g, '\\.')}:\\s*(\\S+)` : `^METRIC ${name.replace(/\./g, '\\.')}=(\\S+)`;
    return { value: { name, goal, pattern }, why: `${source}; ${goalWhy}` };
  }
  return undefined;
}

/** An LLM agent when a key is set, else a coding agent CLI on PATH, else the agent with a note to set its key. */
function agentChoice(machine: MachineFacts, todos: string[]): Guess<ProposerGuess> {
  if (machine.env.ANTHROPIC_API_KEY) {
    return { value: { kind: 'agent', model: 'anthropic:claude-sonnet-4-5', keyEnv: 'ANTHROPIC_API_KEY', keySet: true }, why: 'ANTHROPIC_API_KEY is set' };
  }
  if (machine.env.OPENAI_API_KEY) return { value: { kind: 'agent', model: 'openai:gpt-5', keyEnv: 'OPENAI_API_KEY', keySet: true }, why: 'OPENAI_API_KEY is set' };
  if (machine.hasCommand('claude')) {
    return { value: { kind: 'command', command: 'claude -p --permission-mode acceptEdits' }, why: 'no API key is set, but Claude Code (claude) is on PATH' };
  }
  todos.push('set ANTHROPIC_API_KEY before `strata research` (or change llm.model to a provider you have a key for)');
  return { value: { kind: 'agent', model: 'anthropic:claude-sonnet-4-5', keyEnv: 'ANTHROPIC_API_KEY', keySet: false }, why: 'no API key or coding agent found; the agent needs ANTHROPIC_API_KEY' };
}

/** The script's own budget plus 20% (at least 30 s) for start-up, compilation and evaluation, in whole minutes above 2 minutes. */
export function budgetAbove(seconds: number): number {
  const padded = seconds + Math.max(30, seconds * 0.2);
  return padded > 120 ? Math.ceil(padded / 60) * 60 : Math.ceil(padded / 10) * 10;
}

function formatSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

function slug(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
  return cleaned || 'study';
}
