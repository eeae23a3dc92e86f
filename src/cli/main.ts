import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { StrataError, StudyStateError, StudyStoppedError, UsageError } from '../core/errors.ts';
import { terminalText } from '../core/terminal-text.ts';

// Each command's module loads when the command runs, not at start: `strata status` or `--version` does not
// parse the research loop, the dashboard and the evolve engine first (a clone runs from its TypeScript sources).
const evolveCommand: typeof import('./commands/evolve.ts').evolveCommand = async (options) => (await import('./commands/evolve.ts')).evolveCommand(options);
const finalizeCommand: typeof import('./commands/finalize.ts').finalizeCommand = async (options) => (await import('./commands/finalize.ts')).finalizeCommand(options);
const exportCommand: typeof import('./commands/export.ts').exportCommand = async (options) => (await import('./commands/export.ts')).exportCommand(options);
const importCommand: typeof import('./commands/import.ts').importCommand = async (options) => (await import('./commands/import.ts')).importCommand(options);
const initCommand: typeof import('./commands/init.ts').initCommand = async (options) => (await import('./commands/init.ts')).initCommand(options);
const ledgerCommand: typeof import('./commands/ledger.ts').ledgerCommand = async (options) => (await import('./commands/ledger.ts')).ledgerCommand(options);
const pipelineCommand: typeof import('./commands/pipeline.ts').pipelineCommand = async (options) => (await import('./commands/pipeline.ts')).pipelineCommand(options);
const plotCommand: typeof import('./commands/plot.ts').plotCommand = async (options) => (await import('./commands/plot.ts')).plotCommand(options);
const reportCommand: typeof import('./commands/report.ts').reportCommand = async (options) => (await import('./commands/report.ts')).reportCommand(options);
const researchCommand: typeof import('./commands/research.ts').researchCommand = async (options) => (await import('./commands/research.ts')).researchCommand(options);
const serveCommand: typeof import('./commands/serve.ts').serveCommand = async (options) => (await import('./commands/serve.ts')).serveCommand(options);
const statusCommand: typeof import('./commands/status.ts').statusCommand = async (options) => (await import('./commands/status.ts')).statusCommand(options);
const guideCommand: typeof import('./commands/guide.ts').guideCommand = async (options) => (await import('./commands/guide.ts')).guideCommand(options);
const pauseCommand: typeof import('./commands/pause.ts').pauseCommand = async (options) => (await import('./commands/pause.ts')).pauseCommand(options);
const resumeCommand: typeof import('./commands/resume.ts').resumeCommand = async (options) => (await import('./commands/resume.ts')).resumeCommand(options);
const stopCommand: typeof import('./commands/stop.ts').stopCommand = async (options) => (await import('./commands/stop.ts')).stopCommand(options);
const vetoCommand: typeof import('./commands/veto.ts').vetoCommand = async (options) => (await import('./commands/veto.ts')).vetoCommand(options);
const verifyCommand: typeof import('./commands/verify.ts').verifyCommand = async (options) => (await import('./commands/verify.ts')).verifyCommand(options);

type Values = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;
  run(values: Values, positionals: string[], context: { cwd: string; signal: AbortSignal }): Promise<number>;
}

const configOption = { config: { type: 'string' as const, short: 'c', default: 'strata.yaml' } };
const str = (value: unknown): string => String(value);

/** The command table: each command is a plain async function; this file only parses and presents. */
export const commands: Record<string, Command> = {
  init: {
    summary: 'write a commented strata.yaml for this folder',
    usage: 'strata init [--config strata.yaml] [--force]',
    options: { ...configOption, force: { type: 'boolean' } },
    run: (values, _positionals, context) => initCommand({ cwd: context.cwd, config: str(values.config), force: Boolean(values.force) }),
  },
  research: {
    summary: 'run (or resume) the research study until its budget ends or Ctrl-C',
    usage: 'strata research [--config strata.yaml] [--json]',
    options: { ...configOption, json: { type: 'boolean' } },
    run: (values, _positionals, context) =>
      researchCommand({ config: str(values.config), cwd: context.cwd, json: Boolean(values.json), signal: context.signal }),
  },
  evolve: {
    summary: 'run (or resume) the evolve study: reflective prompt evolution until its budget ends or Ctrl-C',
    usage: 'strata evolve [--config strata.yaml] [--json]',
    options: { ...configOption, json: { type: 'boolean' } },
    run: (values, _positionals, context) => evolveCommand({ config: str(values.config), cwd: context.cwd, json: Boolean(values.json), signal: context.signal }),
  },
  pipeline: {
    summary: 'run (or resume) a pipeline: evolve and research stages in order, each a study <name>/<stage>',
    usage: 'strata pipeline [--config strata.yaml] [--compare] [--json]',
    options: { ...configOption, json: { type: 'boolean' }, compare: { type: 'boolean' } },
    run: (values, _positionals, context) =>
      pipelineCommand({ config: str(values.config), cwd: context.cwd, json: Boolean(values.json), compare: Boolean(values.compare), signal: context.signal }),
  },
  status: {
    summary: 'the study at a glance: best so far, its lineage and the latest trials (--all: every trial), what is running',
    usage: 'strata status [--config strata.yaml | --study NAME] [--all] [--json]',
    options: { ...configOption, study: { type: 'string' }, json: { type: 'boolean' }, all: { type: 'boolean' } },
    run: (values, _positionals, context) =>
      statusCommand({
        config: str(values.config),
        cwd: context.cwd,
        json: Boolean(values.json),
        all: Boolean(values.all),
        ...(values.study ? { study: str(values.study) } : {}),
      }),
  },
  verify: {
    summary: 'after the night: rerun the baseline and the best (interleaved) and the best without each kept change; intervals, contributions',
    usage: 'strata verify [--config strata.yaml | --study NAME] [--repeats 5] [--max-time 2h] [--budget 2x] [--env K=V[,K=V]] [--json]',
    options: { ...configOption, study: { type: 'string' }, repeats: { type: 'string' }, 'max-time': { type: 'string' }, budget: { type: 'string' }, env: { type: 'string' }, json: { type: 'boolean' } },
    run: (values, _positionals, context) =>
      verifyCommand({
        config: str(values.config),
        cwd: context.cwd,
        json: Boolean(values.json),
        signal: context.signal,
        ...(values.study ? { study: str(values.study) } : {}),
        ...(values.repeats ? { repeats: str(values.repeats) } : {}),
        ...(values['max-time'] ? { maxTime: str(values['max-time']) } : {}),
        ...(values.budget ? { budget: str(values.budget) } : {}),
        ...(values.env ? { env: str(values.env).split(',') } : {}),
      }),
  },
  finalize: {
    summary: 'write a clean branch with the changes verify measured as needed, verify its tree, and a pull-request summary',
    usage: 'strata finalize [--config strata.yaml | --study NAME] [--branch strata/<name>-final] [--verify [--repeats 5]] [--json]',
    options: { ...configOption, study: { type: 'string' }, branch: { type: 'string' }, verify: { type: 'boolean' }, repeats: { type: 'string' }, json: { type: 'boolean' } },
    run: (values, _positionals, context) =>
      finalizeCommand({
        config: str(values.config),
        cwd: context.cwd,
        json: Boolean(values.json),
        signal: context.signal,
        ...(values.study ? { study: str(values.study) } : {}),
        ...(values.branch ? { branch: str(values.branch) } : {}),
        ...(values.verify ? { verify: true } : {}),
        ...(values.repeats ? { repeats: str(values.repeats) } : {}),
      }),
  },
  export: {
    summary: 'write every trial as tsv (autoresearch columns) or jsonl',
    usage: 'strata export [--format tsv|jsonl] [--config strata.yaml | --study NAME]',
    options: { ...configOption, study: { type: 'string' }, format: { type: 'string', default: 'tsv' } },
    run: (values, _positionals, context) =>
      exportCommand({ config: str(values.config), cwd: context.cwd, format: str(values.format), ...(values.study ? { study: str(values.study) } : {}) }),
  },
  import: {
    summary: 'bring an autoresearch results.tsv and its branch into the ledger as a finished study',
    usage: 'strata import <results.tsv> [--branch autoresearch/<tag>] [--name NAME] [--metric COLUMN] [--goal minimize|maximize] [--config strata.yaml]',
    options: { ...configOption, branch: { type: 'string' }, name: { type: 'string' }, metric: { type: 'string' }, goal: { type: 'string' } },
    run: (values, positionals, context) => {
      if (positionals.length !== 1) throw new StudyStateError('give one results file, e.g. strata import results.tsv');
      return importCommand({
        cwd: context.cwd,
        file: positionals[0]!,
        config: str(values.config),
        ...(values.branch ? { branch: str(values.branch) } : {}),
        ...(values.name ? { name: str(values.name) } : {}),
        ...(values.metric ? { metric: str(values.metric) } : {}),
        ...(values.goal ? { goal: str(values.goal) } : {}),
      });
    },
  },
  serve: {
    summary: 'live dashboard of every study in this repository (read-only; 127.0.0.1 unless --host)',
    usage: 'strata serve [--port 4040] [--host 127.0.0.1] [--ledger .strata/ledger.db]',
    options: { port: { type: 'string', default: '4040' }, host: { type: 'string', default: '127.0.0.1' }, ledger: { type: 'string' } },
    run: (values, _positionals, context) =>
      serveCommand({ cwd: context.cwd, port: str(values.port), host: str(values.host), signal: context.signal, ...(values.ledger ? { ledger: str(values.ledger) } : {}) }),
  },
  report: {
    summary: 'write a self-contained HTML report of a study (or Markdown + SVG with --format md)',
    usage: 'strata report [--study NAME] [--out report.html] [--format html|md]',
    options: { ...configOption, study: { type: 'string' }, out: { type: 'string' }, format: { type: 'string', default: 'html' }, ledger: { type: 'string' } },
    run: (values, _positionals, context) =>
      reportCommand({ cwd: context.cwd, config: str(values.config), format: str(values.format), ...(values.study ? { study: str(values.study) } : {}), ...(values.out ? { out: str(values.out) } : {}), ...(values.ledger ? { ledger: str(values.ledger) } : {}) }),
  },
  ledger: {
    summary: 'check the ledger: replay its events into a fresh database and compare every state table',
    usage: 'strata ledger check [--ledger .strata/ledger.db] [--json]',
    options: { ledger: { type: 'string' }, json: { type: 'boolean' } },
    run: (values, positionals, context) => {
      if (positionals.length !== 1) throw new StudyStateError('say what to do with the ledger, e.g. strata ledger check');
      return ledgerCommand({ cwd: context.cwd, action: positionals[0]!, json: Boolean(values.json), ...(values.ledger ? { ledger: str(values.ledger) } : {}) });
    },
  },
  plot: {
    summary: "write a study's progress chart as SVG",
    usage: 'strata plot [--study NAME] [--out progress.svg]',
    options: { ...configOption, study: { type: 'string' }, out: { type: 'string', default: 'progress.svg' }, ledger: { type: 'string' } },
    run: (values, _positionals, context) =>
      plotCommand({ cwd: context.cwd, config: str(values.config), out: str(values.out), ...(values.study ? { study: str(values.study) } : {}), ...(values.ledger ? { ledger: str(values.ledger) } : {}) }),
  },
  guide: {
    summary: 'steer a study, running or not: add a note its proposers read at the next proposal (--list, --retire N)',
    usage: 'strata guide "note" | --list | --retire N [--config strata.yaml | --study NAME] [--json]',
    options: { ...configOption, study: { type: 'string' }, list: { type: 'boolean' }, retire: { type: 'string' }, author: { type: 'string' }, json: { type: 'boolean' } },
    run: (values, positionals, context) => {
      if (positionals.length > 1) throw new UsageError('give the note as one argument in quotes, e.g. strata guide "leave the tokenizer alone"');
      return guideCommand({
        config: str(values.config),
        cwd: context.cwd,
        list: Boolean(values.list),
        json: Boolean(values.json),
        ...(positionals[0] !== undefined ? { text: positionals[0] } : {}),
        ...(values.retire ? { retire: str(values.retire) } : {}),
        ...(values.author ? { author: str(values.author) } : {}),
        ...(values.study ? { study: str(values.study) } : {}),
      });
    },
  },
  veto: {
    summary: 'undo one kept trial: the branch is rebuilt without it, later keeps re-applied (or queued again)',
    usage: 'strata veto <trial> [--why "..."] [--config strata.yaml | --study NAME]',
    options: { ...configOption, study: { type: 'string' }, why: { type: 'string' }, author: { type: 'string' } },
    run: (values, positionals, context) => {
      if (positionals.length !== 1) throw new UsageError('give one trial number, e.g. strata veto 7 --why "leaks the validation set"');
      return vetoCommand({
        config: str(values.config),
        cwd: context.cwd,
        trial: positionals[0]!,
        ...(values.why ? { why: str(values.why) } : {}),
        ...(values.author ? { author: str(values.author) } : {}),
        ...(values.study ? { study: str(values.study) } : {}),
      });
    },
  },
  pause: {
    summary: 'pause a running study from another terminal once its running trial ends (--now: stop that trial too)',
    usage: 'strata pause [--now] [--why "..."] [--config strata.yaml | --study NAME]',
    options: { ...configOption, study: { type: 'string' }, now: { type: 'boolean' }, why: { type: 'string' }, author: { type: 'string' } },
    run: (values, _positionals, context) =>
      pauseCommand({
        config: str(values.config),
        cwd: context.cwd,
        now: Boolean(values.now),
        ...(values.why ? { why: str(values.why) } : {}),
        ...(values.author ? { author: str(values.author) } : {}),
        ...(values.study ? { study: str(values.study) } : {}),
      }),
  },
  resume: {
    summary: 'resume a paused study in the background (--print: only say how); withdraws a pending pause',
    usage: 'strata resume [--print] [--config strata.yaml | --study NAME]',
    options: { ...configOption, study: { type: 'string' }, print: { type: 'boolean' }, author: { type: 'string' } },
    run: (values, _positionals, context) =>
      resumeCommand({ config: str(values.config), cwd: context.cwd, print: Boolean(values.print), ...(values.author ? { author: str(values.author) } : {}), ...(values.study ? { study: str(values.study) } : {}) }),
  },
  stop: {
    summary: 'end a study for good from another terminal (a running trial is interrupted)',
    usage: 'strata stop [--why "..."] [--config strata.yaml | --study NAME]',
    options: { ...configOption, study: { type: 'string' }, why: { type: 'string' }, author: { type: 'string' } },
    run: (values, _positionals, context) =>
      stopCommand({ config: str(values.config), cwd: context.cwd, ...(values.why ? { why: str(values.why) } : {}), ...(values.author ? { author: str(values.author) } : {}), ...(values.study ? { study: str(values.study) } : {}) }),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'strata — automated ML experimentation',
    '',
    'usage: strata <command> [options]',
    '',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'strata <command> --help shows a command\'s options.',
  ].join('\n');
}

/** The version in package.json: ../../package.json from src/cli/ in a clone and from dist/cli/ in the package alike. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Parse argv, run the command, print errors plainly. Returns the exit code. */
export async function main(argv: readonly string[], context: { cwd: string; signal: AbortSignal }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`strata: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`strata ${name}: ${(error as Error).message}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${command.usage}\n  ${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(parsed.values as Values, parsed.positionals, context);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`strata ${name}: ${terminalText(error.message)}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (error instanceof StrataError) {
      // The message may quote what a trial, an agent or a model printed: shown without control sequences.
      process.stderr.write(`strata ${name}: ${terminalText(error.message)}\n`);
      // A stop before the command had anything to show: the conventional exit code of a Ctrl-C.
      return error instanceof StudyStoppedError ? 130 : 1;
    }
    throw error;
  }
}
