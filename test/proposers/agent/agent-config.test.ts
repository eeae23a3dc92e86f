import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config/parse-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { agentStudyYaml } from './agent-fixtures.ts';

const LLM = '  model: anthropic:claude-sonnet-4-5\n';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe('agent settings in strata.yaml', () => {
  it('fills in defaults', () => {
    expect(parseConfig(agentStudyYaml({ llm: LLM })).research!.agent).toEqual({
      editFormat: 'tools',
      maxFixAttempts: 2,
      timeoutMs: 20 * 60_000,
      maxSteps: 30,
      promptTokens: 32_000,
      historyTrials: 12,
    });
  });

  it('reads every key', () => {
    const extra = '  program: notes/program.md\n  edit_format: search-replace\n  max_fix_attempts: 0\n  agent_timeout: 90s\n  agent_max_steps: 12\n  prompt_tokens: 8000\n  history_trials: 4\n';
    expect(parseConfig(agentStudyYaml({ llm: LLM, extra })).research!.agent).toEqual({
      program: 'notes/program.md',
      editFormat: 'search-replace',
      maxFixAttempts: 0,
      timeoutMs: 90_000,
      maxSteps: 12,
      promptTokens: 8000,
      historyTrials: 4,
    });
  });

  it('reports what is missing or misspelled, at its path, all at once', () => {
    const noLlm = agentStudyYaml({ llm: LLM }).replace(/llm:\n[\s\S]*$/, '');
    expect(problems(noLlm)).toEqual(['llm: proposer: agent needs a model: add an `llm:` section, e.g. llm: {model: anthropic:claude-sonnet-4-5}']);
    const command = agentStudyYaml({ llm: LLM }).replace('proposer: agent', 'proposer: command');
    expect(problems(command)).toEqual(['research.agent_command: proposer: command needs the agent to run, e.g. agent_command: "claude -p --permission-mode acceptEdits"']);
    const typos = agentStudyYaml({ llm: LLM, extra: '  edit_format: diff\n  max_fix_attempt: 3\n' });
    expect(problems(typos)).toEqual([expect.stringMatching(/^research.edit_format: .*"tools"/), 'research.max_fix_attempt: unknown key (did you mean "max_fix_attempts"?); a typo here must not silently change the study']);
  });
});
