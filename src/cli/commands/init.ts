import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StudyStateError } from '../../core/errors.ts';
import { detectProject, type MachineFacts } from '../../init/detect-project.ts';
import { machineFacts } from '../../init/machine-facts.ts';
import { renderInitConfig } from '../../init/render-init-config.ts';
import { schemaReference } from '../../init/schema-reference.ts';

export interface InitCommandOptions {
  cwd: string;
  config: string;
  force?: boolean;
  out?: NodeJS.WritableStream;
  /** The machine as init sees it (tests pass their own); default: this process's PATH and environment. */
  machine?: MachineFacts;
}

/** `strata init`: write a commented strata.yaml for the folder, never overwriting one without --force. */
export async function initCommand(options: InitCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const target = resolve(options.cwd, options.config);
  if (existsSync(target) && !options.force) {
    throw new StudyStateError(`${target} already exists; pass --force to overwrite it`);
  }
  const detection = detectProject(options.cwd, options.machine ?? machineFacts());
  writeFileSync(target, renderInitConfig(detection, { schema: schemaReference(target) }));
  out.write(`wrote ${target}${detection.layout === 'autoresearch' ? ' (an autoresearch-style repository)' : ''}\n`);
  const proposer = detection.proposer.value;
  const lines: [string, { why: string } | undefined, string][] = [
    ['editable', detection.editable, detection.editable?.value.join(', ') ?? ''],
    ['protected', detection.protected, detection.protected.value.join(', ')],
    ['run', detection.run, detection.run?.value ?? ''],
    ['metric', detection.metric, detection.metric ? `${detection.metric.value.goal} ${detection.metric.value.name}` : ''],
    ['secondary', detection.secondary, detection.secondary?.value.join(', ') ?? ''],
    ['budget', detection.budget, detection.budget.value],
    ['proposer', detection.proposer, proposer.kind === 'agent' ? `agent (${proposer.model})` : proposer.kind === 'command' ? `command (${proposer.command})` : 'search'],
  ];
  for (const [label, guess, value] of lines) if (guess && value) out.write(`  ${label}: ${value} — ${guess.why}\n`);
  for (const item of detection.todos) out.write(`  TODO: ${item}\n`);
  out.write(
    detection.todos.length === 0
      ? 'next: commit strata.yaml, then run `strata research`\n'
      : 'next: fix the TODOs in it, commit your code and strata.yaml, then run `strata research`\n',
  );
  return 0;
}
