import type { Detection, Guess } from './detect-project.ts';

const double = (text: string) => JSON.stringify(text);
const single = (text: string) => `'${text.replaceAll("'", "''")}'`;
const list = (items: readonly string[]) => `[${items.map(double).join(', ')}]`;

/**
 * The commented strata.yaml for a detection: every guessed value has a
 * comment above it saying why, and everything init could not guess is a
 * TODO at the end. The result always parses; for an autoresearch-style
 * repository it needs no edits. `schema` is what the editor modeline points
 * at (see schemaReference); without it there is no modeline.
 *
 * @example
 * writeFileSync('strata.yaml', renderInitConfig(detectProject('.', machineFacts()), { schema: schemaReference('strata.yaml') }));
 */
export function renderInitConfig(detection: Detection, options: { schema?: string } = {}): string {
  const why = (guess: Guess<unknown> | undefined, indent = '  ') => (guess ? [`${indent}# guessed: ${guess.why}`] : []);
  const proposer = detection.proposer.value;
  const metric = detection.metric?.value;
  const lines = [
    ...(options.schema === undefined ? [] : [`# yaml-language-server: $schema=${options.schema}`]),
    `# Strata study config, written by \`strata init\`${detection.layout === 'autoresearch' ? ' for an autoresearch-style repository' : ''}.`,
    '# `strata research` runs the study; `strata status` and `strata serve` show it.',
    '# Each "guessed:" comment says what init guessed and why: change anything that is wrong.',
    '',
    `name: ${detection.name}   # the study's name; its git branch is strata/<name>`,
    'research:',
    ...why(detection.editable),
    `  editable: ${list(detection.editable?.value ?? ['train.py'])}   # globs a proposer may change; nothing else may change`,
    ...why(detection.protected),
    `  protected: ${list(detection.protected.value)}   # hashed around every trial; a trial that changes them is invalid`,
    ...why(detection.run),
    `  run: ${double(detection.run?.value ?? 'python3 train.py')}   # run in the trial's own git worktree`,
    ...why(detection.budget),
    `  budget: ${detection.budget.value}   # wall clock per trial; the process tree is killed at budget + grace (10%, at least 5s)`,
    '  metric:',
    ...why(detection.metric, '    '),
    `    name: ${metric?.name ?? 'val_loss'}`,
    `    goal: ${metric?.goal ?? 'minimize'}   # or maximize`,
    metric ? `    pattern: ${single(metric.pattern)}   # its first group is the number; "nan" counts as a crash` : "    # pattern: '^val_loss:\\s*(\\S+)'   # default: lines `METRIC <name>=<number>`",
    ...(detection.secondary ? [...why(detection.secondary, '    '), `    secondary: ${list(detection.secondary.value)}`] : []),
    ...(detection.secondary
      ? [`  # constraints: {${detection.secondary.value[0]}: {max: 80000}}   # uncomment to make a trial above it invalid even if ${metric?.name ?? 'the metric'} improved`]
      : []),
    ...why(detection.proposer),
    ...proposerLines(detection),
    ...(detection.maxTime ? [...why(detection.maxTime), `  max_time: ${detection.maxTime.value}`] : []),
    ...(detection.env
      ? [...why(detection.env), `  env: {${Object.entries(detection.env.value).map(([name, value]) => `${name}: ${double(value)}`).join(', ')}}`]
      : []),
    ...(detection.layout === 'autoresearch'
      ? [
          `  # acceptance: {rule: noise-aware}   # the default: the unmodified ${detection.editable?.value[0] ?? 'script'} runs once, and again (up to 5 runs, about ${repeatsTime(detection.budget.value)}) only when a candidate looks better;`,
          '  #   a change is kept only when it beats the measured noise. rule: strict keeps any improvement, as autoresearch does.',
        ]
      : []),
    ...llmLines(detection),
    ...detection.todos.map((todo) => `# TODO: ${todo}`),
    '',
  ];
  return lines.join('\n');
}

function proposerLines(detection: Detection): string[] {
  const proposer = detection.proposer.value;
  const program = detection.program ? [...[`  # guessed: ${detection.program.why}`], `  program: ${double(detection.program.value)}`] : [];
  switch (proposer.kind) {
    case 'agent':
      return ['  proposer: agent   # an LLM edits the editable files, one idea per trial (search | agent | command)', ...program];
    case 'command':
      return ['  proposer: command   # an external coding agent edits the files, one idea per trial', `  agent_command: ${double(proposer.command)}`, ...program];
    case 'search':
      return [
        '  proposer: search   # search | agent | command',
        '  params:   # the search space: values reach the script as strata.params.json and STRATA_PARAM_<NAME>',
        '    lr: {type: float, low: 0.0001, high: 0.1, log: true}',
        '  max_trials: 20   # the baseline counts as one; or max_time: 8h',
      ];
  }
}

function llmLines(detection: Detection): string[] {
  const proposer = detection.proposer.value;
  if (proposer.kind !== 'agent') return [];
  return [
    'llm:',
    `  model: ${proposer.model}   # provider:model; the key is read from ${proposer.keyEnv}${proposer.keySet ? ' (set now)' : ' (not set now)'}`,
    '  max_usd: 20   # the study stops when the agent has spent this much (0 = no cap)',
  ];
}

/** Five runs at the budget, in words: `6m` → `30m`. */
function repeatsTime(budget: string): string {
  const match = /^(\d+)(s|m)$/.exec(budget);
  if (!match) return `5 × ${budget}`;
  const seconds = Number(match[1]) * (match[2] === 'm' ? 60 : 1) * 5;
  return seconds >= 120 ? `${Math.round(seconds / 60)}m` : `${seconds}s`;
}
