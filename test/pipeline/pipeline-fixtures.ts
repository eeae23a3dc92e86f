import { join } from 'node:path';
import type { LoopbackReply, LoopbackRequest, LoopbackScript } from '../helpers/loopback-model.ts';
import { makeRepo } from '../helpers/study-repo.ts';

/** A trainer whose loss is (x - 1)^2 + 0.5, plus 0.01 × (STRATA_SEED mod 3) so examples differ a little. */
export const TRAINER = `const x = 3;
const seed = Number(process.env.STRATA_SEED ?? 0);
console.log('training with x =', x, 'seed', seed);
console.log('METRIC loss=' + ((x - 1) ** 2 + 0.5 + 0.01 * (seed % 3)));
`;

export const SEED_PROGRAM = 'Research program for x.\nMake small changes: move x by 0.25 per trial.';
/** What the scripted reflector writes: the same program, bolder. */
export const BOLD_PROGRAM = 'Research program for x.\nBe bold: move x by 1 per trial.';

/**
 * One loopback model playing three parts, told apart by the request:
 * - the start-up check (no tools, "Reply with the single word OK"): OK;
 * - the reflector (no tools, GEPA's reflection prompt): the bold program, in a fence;
 * - the research agent (tools): reads train.mjs, then moves x toward 1 by the
 *   step its program names (1 when the brief says "Be bold", else 0.25).
 * So what the agent does depends on the program it was given, nothing else.
 */
export function scriptedModels(options: { reflection?: (request: LoopbackRequest) => LoopbackReply } = {}): LoopbackScript {
  return (request) => {
    if (request.tools.length === 0) {
      if (request.lastUserText.includes('You are improving one part')) {
        return options.reflection?.(request) ?? { text: `Here is the new program:\n\`\`\`\n${BOLD_PROGRAM}\n\`\`\`` };
      }
      return { text: 'OK' };
    }
    const everything = [request.system, ...request.messages.map((message) => message.content)].join('\n');
    const step = everything.includes('Be bold') ? 1 : 0.25;
    const results = request.messages.filter((message) => message.role === 'tool').map((message) => message.content);
    const found = [...results.join('\n').matchAll(/const x = (-?[\d.]+);/g)].at(-1);
    if (!found) return { toolCalls: [{ name: 'read_file', arguments: { path: 'train.mjs' } }] };
    const x = Number(found[1]);
    // Past the optimum every idea is a different (worse) x, so no proposal repeats an earlier one.
    const next = x > 1 ? Math.max(1, x - step) : 1 + ((request.index % 97) + 1) / 100;
    return {
      toolCalls: [
        { name: 'edit_file', arguments: { path: 'train.mjs', old_text: `const x = ${found[1]};`, new_text: `const x = ${next};` } },
        { name: 'finish', arguments: { description: `move x from ${x} to ${next} (step ${step})`, hypothesis: 'loss falls as x nears 1' } },
      ],
    };
  };
}

/** The research section shared by stages (strict acceptance: the trainer is deterministic). */
export function researchSection(): string {
  return `research:
  editable: [train.mjs]
  protected: [data/**]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 10s
  metric: {name: loss, goal: minimize}
  proposer: agent
  max_trials: 3
  acceptance: {rule: strict}
  # The serial loop: these tests count the trials and model calls of each stage (speculation has its own tests).
  executor: {speculate: false}
`;
}

/** A two-stage pipeline: evolve the program with research evaluations, then research with the evolved program. */
export function pipelineYaml(modelUrl: string, options: { name?: string; exploit?: string; explore?: string; extra?: string } = {}): string {
  return `name: ${options.name ?? 'pipe'}
${researchSection()}llm:
  model: openai-compatible:loop
  base_url: ${modelUrl}
  max_retries: 1
  prices: {input_per_mtok: 1, output_per_mtok: 2}
pipeline:
  - stage: explore
    evolve:
      seed: {program: program.md}
      evaluator:
        kind: research
        trials: 3
        budget: 5s
        examples: [{seed: 1}, {seed: 2}]
      budget: {metric_calls: 6}
      minibatch_size: 1
${options.explore ?? ''}  - stage: exploit
${
  options.exploit ??
  `    research:
      program: \${explore.best.program}
      max_trials: 3
`
}${options.extra ?? ''}`;
}

/** A repository holding the trainer, protected data, the seed program and the pipeline file. */
export function pipelineRepo(yaml: string): { repo: string; configPath: string } {
  const repo = makeRepo({ 'train.mjs': TRAINER, 'data/x.txt': 'data', 'program.md': `${SEED_PROGRAM}\n`, 'pipeline.yaml': yaml });
  return { repo, configPath: join(repo, 'pipeline.yaml') };
}
