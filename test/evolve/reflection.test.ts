import { afterEach, describe, expect, it } from 'vitest';
import { optimize, type OptimizeOptions } from '../../src/evolve/optimize.ts';
import { extractFencedText, readReflectionReply } from '../../src/evolve/reflection-prompt.ts';
import { LoopbackModelServer, type LoopbackReply } from '../helpers/loopback-model.ts';
import { toyEvaluator, toyExamples, type ToyExample } from './toy-task.ts';

let server: LoopbackModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(replies: LoopbackReply[] | ((prompt: string) => LoopbackReply), overrides: Partial<OptimizeOptions<ToyExample>> = {}) {
  server = await LoopbackModelServer.start(Array.isArray(replies) ? replies : (request) => replies(request.lastUserText));
  return optimize({
    seed: { instructions: 'Answer.' },
    trainset: toyExamples('t', 3),
    valset: toyExamples('v', 3),
    evaluate: toyEvaluator().evaluate,
    reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 2 } },
    budget: { metricCalls: 3 + 6 + 6 },
    ...overrides,
  });
}

describe('reflection replies', () => {
  it('takes the text between the outer fences and drops a language tag', () => {
    expect(extractFencedText('Sure.\n```markdown\nBe brief.\n```\nDone.')).toBe('Be brief.');
    expect(extractFencedText('```\nouter\n```inner```\nend\n```')).toBe('outer\n```inner```\nend');
    expect(extractFencedText('no fences here')).toBeNull();
  });

  it('rejects a reply cut off by the length limit, empty, unchanged, unfenced or too long', () => {
    const read = (text: string, finishReason = 'stop') => readReflectionReply({ text, finishReason }, 'old', 20);
    expect(read('```\nnew\n```', 'length')).toEqual({ reason: 'the reply was cut off at the output token limit' });
    expect(read('```\n\n```')).toEqual({ reason: 'the fenced block was empty' });
    expect(read('```\nold\n```')).toEqual({ reason: 'the text was returned unchanged' });
    expect(read('just text')).toEqual({ reason: 'no fenced block in the reply' });
    expect(read(`\`\`\`\n${'x'.repeat(21)}\n\`\`\``)).toMatchObject({ reason: expect.stringMatching(/over the limit of 20/) });
    expect(read('```\nnew\n```')).toEqual({ text: 'new' });
  });

  it('retries an unusable reply with the reason, and gives up after the configured attempts', async () => {
    const script: LoopbackReply[] = [
      { text: '```\nAnswer. alpha bravo\n```', finishReason: 'length' },
      { text: '```\nAnswer. alpha bravo\n```' },
      { text: 'no fence' },
    ];
    let served = 0;
    // After the scripted replies, the model only ever repeats the text: every later proposal fails.
    const result = await run(() => script[served++] ?? { text: '```\nAnswer. alpha bravo\n```' }, { budget: { metricCalls: 21 } });
    expect(server!.requests[1]!.lastUserText).toMatch(/previous reply could not be used \(the reply was cut off/);
    expect(result.proposals.accepted).toBe(1);
    expect(result.proposals.failed).toBeGreaterThan(1);
    expect(result.stopReason).toBe('converged');
    expect(result.budget.metricCalls).toBe(12);
  });

  it('tells the reflector which rewrites from this parent were already turned down', async () => {
    const prompts: string[] = [];
    await run(
      (prompt) => {
        prompts.push(prompt);
        // A rewrite that mentions no answer word: never better than the parent on the minibatch.
        return { text: `\`\`\`\nAnswer carefully, attempt ${prompts.length}.\n\`\`\`` };
      },
      { budget: { metricCalls: 3 + 6 + 6 + 6 }, trainset: toyExamples('t', 3, 3), valset: toyExamples('v', 3, 3) },
    );
    expect(prompts[0]).not.toMatch(/turned down/);
    expect(prompts[1]).toMatch(/turned down[\s\S]*scored 0 vs parent 0[\s\S]*attempt 1/);
  });

  it('stops before a reflection that could cross the USD cap', async () => {
    const result = await run((prompt) => ({ text: `\`\`\`\nAnswer carefully ${prompt.length}.\n\`\`\``, usage: { input: 1000, output: 100 } }), {
      budget: { metricCalls: 1000, usd: 0.02 },
      trainset: toyExamples('t', 6, 6),
      valset: toyExamples('v', 3, 3),
    });
    expect(result.stopReason).toBe('usd');
    expect(result.budget.usd).toBeLessThanOrEqual(0.02);
  });
});
