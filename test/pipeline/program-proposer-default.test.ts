import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { evaluationConfig, normalizePipeline, researchStageConfig } from '../../src/pipeline/pipeline-config.ts';

/** The papercut: evolving the research program under a top-level research: without proposer failed with "the search proposer needs a search space". */
const pipelineYaml = (proposer = '') => `name: staged
llm: {model: "anthropic:claude-sonnet-4-5"}
research:
  editable: [train.py]
  run: python3 train.py
  budget: 10s
  metric: {name: loss, goal: minimize}
${proposer}pipeline:
  - stage: explore
    evolve:
      seed: {program: program.md}
      evaluator: {kind: research, trials: 4, examples: [{seed: 1}]}
      budget: {metric_calls: 8}
  - stage: exploit
    research:
      program: \${explore.best.program}
      max_trials: 8
`;

describe('a pipeline that evolves the research program', () => {
  it('defaults research.proposer to agent, says so, and every stage and evaluation gets it', () => {
    const config = parseConfig(pipelineYaml(), '/repo/pipeline.yaml');
    expect(config.research!.proposer).toBe('agent');
    expect(config.notes).toEqual(['research.proposer is agent: this pipeline evolves the research program, and only an agent follows one (set research.proposer to choose another)']);
    const pipeline = normalizePipeline(config, '/repo/pipeline.yaml');
    const exploit = researchStageConfig(pipeline, pipeline.stages[1]!, (text) => text.replace('${explore.best.program}', 'program.md'));
    expect(exploit.research).toMatchObject({ proposer: 'agent', agent: { program: 'program.md' } });
    expect(exploit.notes).toBeUndefined();
    const explore = pipeline.stages[0]!;
    const evaluation = evaluationConfig(pipeline, explore, { name: 'staged/explore/eval-1', example: explore.evaluator!.examples[0]!, programPath: 'program.md' });
    expect(evaluation.research!.proposer).toBe('agent');
  });

  it('keeps a proposer the file sets, and then the search proposer still asks for its search space', () => {
    expect(parseConfig(pipelineYaml('  proposer: command\n  agent_command: "claude -p"\n')).research!.proposer).toBe('command');
    expect(() => parseConfig(pipelineYaml('  proposer: search\n'))).toThrow('research.params: the search proposer needs a search space');
  });

  it('leaves a research-only file and a pipeline without a research evaluator on the search default', () => {
    const plain = parseConfig(pipelineYaml().replace(/pipeline:[\s\S]*$/, '').replace('metric: {name: loss, goal: minimize}', 'metric: {name: loss, goal: minimize}\n  params: {lr: {type: float, low: 0.001, high: 0.1}}'));
    expect(plain.research!.proposer).toBe('search');
    expect(plain.notes).toBeUndefined();
  });
});
