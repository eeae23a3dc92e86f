import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { StudyStateError } from '../../core/errors.ts';

export interface InitCommandOptions {
  cwd: string;
  config: string;
  force?: boolean;
  out?: NodeJS.WritableStream;
}

/** What `strata init` found in a folder. */
export interface Detection {
  name: string;
  train?: string;
  run?: string;
  protected: string[];
  metric?: { name: string; goal: 'minimize' | 'maximize' };
  notes: string[];
  todos: string[];
}

const TRAIN_SCRIPTS = ['train.py', 'train.ts', 'train.mjs', 'train.js', 'main.py'];
const HARNESS_FILES = ['prepare.py', 'prepare.ts', 'evaluate.py', 'evaluate.ts', 'eval.py'];
const DATA_DIRS = ['data', 'dataset', 'datasets'];

/** Look at a folder and guess a study: training script, harness, data, run command. Pure apart from reading the folder. */
export function detectProject(dir: string): Detection {
  const files = new Set(readdirSync(dir));
  const detection: Detection = { name: slug(basename(resolve(dir))), protected: [], notes: [], todos: [] };
  detection.train = TRAIN_SCRIPTS.find((file) => files.has(file));
  if (detection.train) {
    detection.run = runCommand(detection.train);
    detection.notes.push(`found ${detection.train}: made it the editable file and guessed the run command`);
  } else {
    detection.todos.push('no training script found (looked for train.py, train.ts, train.js, main.py): set research.editable and research.run');
  }
  for (const file of HARNESS_FILES) if (files.has(file)) detection.protected.push(file);
  for (const dirName of DATA_DIRS) if (files.has(dirName)) detection.protected.push(`${dirName}/**`);
  if (detection.protected.length > 0) detection.notes.push(`protected the evaluation harness and data: ${detection.protected.join(', ')}`);
  else detection.todos.push('no evaluation harness or data folder found: list the files trials must not change in research.protected');
  detection.todos.push('check the metric: print `METRIC <name>=<value>` from the script, or set research.metric.pattern');
  return detection;
}

function runCommand(script: string): string {
  if (script.endsWith('.py')) return `python3 ${script}`;
  return `node ${script}`;
}

function slug(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
  return cleaned || 'study';
}

/** The commented strata.yaml for a detection. */
export function renderInitConfig(detection: Detection): string {
  const todo = (text: string) => `  # TODO: ${text}`;
  const lines = [
    '# yaml-language-server: $schema=./node_modules/strata/schema/strata.schema.json',
    '# Strata study config. `strata research` runs it; `strata status` shows it.',
    ...detection.notes.map((note) => `# strata init: ${note}`),
    '',
    `name: ${detection.name}                # study name; the git branch is strata/<name>`,
    'research:',
    `  editable: [${JSON.stringify(detection.train ?? 'train.py')}]   # globs a proposer may change; nothing else may change`,
    `  protected: [${detection.protected.map((file) => JSON.stringify(file)).join(', ')}]   # hashed around every trial; must not change`,
    `  run: ${JSON.stringify(detection.run ?? 'python3 train.py')}   # shell command, run in the trial's worktree`,
    '  budget: 5m                 # wall clock per trial; the process tree is killed at budget + grace (default 10% or 5 s)',
    '  metric:',
    `    name: ${detection.metric?.name ?? 'val_loss'}`,
    `    goal: ${detection.metric?.goal ?? 'minimize'}            # or maximize`,
    '    # pattern: \'^val_loss:\\s*(\\S+)\'   # optional; default reads lines `METRIC <name>=<number>`',
    '  proposer: search           # search | agent | command',
    '  params:                    # the search space: values reach the script as strata.params.json and STRATA_PARAM_<NAME>',
    '    lr: {type: float, low: 0.0001, high: 0.1, log: true}',
    '  max_trials: 20             # plus optional max_time: 8h',
    ...detection.todos.map(todo),
    '',
  ];
  return lines.join('\n');
}

/** `strata init`: write a commented strata.yaml, never overwriting one without --force. */
export async function initCommand(options: InitCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const target = resolve(options.cwd, options.config);
  if (existsSync(target) && !options.force) {
    throw new StudyStateError(`${target} already exists; pass --force to overwrite it`);
  }
  const detection = detectProject(options.cwd);
  writeFileSync(target, renderInitConfig(detection));
  out.write(`wrote ${target}\n`);
  for (const note of detection.notes) out.write(`  ${note}\n`);
  for (const item of detection.todos) out.write(`  TODO: ${item}\n`);
  out.write(`next: review it, commit your code, then run \`strata research\`\n`);
  return 0;
}

