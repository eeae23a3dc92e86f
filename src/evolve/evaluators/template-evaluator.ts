import type { EvolveMetric } from '../../core/config/evolve-config.ts';
import type { ModelSpec } from '../../core/config/llm-config.ts';
import { ModelClient } from '../../llm/model-client.ts';
import { jsonHash } from '../content-hash.ts';
import type { Evaluate, StudyBinding } from '../types.ts';
import type { DatasetExample } from './jsonl-dataset.ts';
import { judgeOutput } from './judge-metric.ts';
import { renderTask } from './prompt-template.ts';
import { scoreOutput } from './score-output.ts';

export interface TemplateEvaluatorOptions {
  taskModel: ModelSpec;
  metric: Exclude<EvolveMetric, { kind: 'command' }>;
  template: { system?: string; user: string };
  task: { maxOutputTokens: number; temperature?: number };
  llm?: { timeoutMs?: number; maxRetries?: number; env?: NodeJS.ProcessEnv };
}

/**
 * The built-in evaluator: fill the prompt template with the candidate's
 * components and the example's input, run the task model, score its output
 * with the metric (or a judge model). Model calls are recorded in the study's
 * ledger and count against its USD budget.
 *
 * @example
 * const { evaluate, version, check } = createTemplateEvaluator({ taskModel, metric: { kind: 'exact', ignoreCase: true }, template: { user: '{input}' }, task: { maxOutputTokens: 256 } });
 */
export function createTemplateEvaluator(options: TemplateEvaluatorOptions): {
  evaluate: Evaluate<DatasetExample>;
  version: string;
  /** One cheap call per model, recorded in the study (role `check`). */
  check: (study: StudyBinding, signal?: AbortSignal) => Promise<void>;
} {
  const clients = new Map<string, ModelClient>();
  const clientFor = (spec: ModelSpec, study: StudyBinding): ModelClient => {
    const key = `${study.studyId}:${spec.name}:${spec.baseUrl ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = new ModelClient({
        model: spec,
        ledger: study.ledger,
        studyId: study.studyId,
        budget: study.usd,
        // Evaluations run many at a time: their calls' ends share commits (the batch commits what is left when it ends).
        batchEnds: true,
        // Plain text calls by the thousand: straight to the model's doGenerate (see ModelClientOptions.direct).
        direct: true,
        ...(options.llm?.timeoutMs !== undefined ? { timeoutMs: options.llm.timeoutMs } : {}),
        ...(options.llm?.maxRetries !== undefined ? { retry: { maxRetries: options.llm.maxRetries } } : {}),
        ...(options.llm?.env ? { env: options.llm.env } : {}),
      });
      clients.set(key, client);
    }
    return client;
  };
  const { metric } = options;
  const evaluate: Evaluate<DatasetExample> = async (candidate, example, context) => {
    const { system, user } = renderTask(options.template, candidate, example.input);
    const reply = await clientFor(options.taskModel, context.study).call({
      role: 'task',
      system,
      prompt: user,
      maxOutputTokens: options.task.maxOutputTokens,
      ...(options.task.temperature !== undefined ? { temperature: options.task.temperature } : {}),
      signal: context.signal,
    });
    const verdict =
      metric.kind === 'judge'
        ? await judgeOutput(clientFor(metric.model, context.study), metric.rubric, example, reply.text, context.signal)
        : scoreOutput(metric, reply.text, example);
    const cutOff = reply.finishReason === 'length' ? ' (The response was cut off at the output token limit.)' : '';
    return { score: verdict.score, feedback: verdict.feedback + cutOff, trace: { input: example.input, output: reply.text } };
  };
  const version = jsonHash({ task: options.taskModel.name, metric, template: options.template, settings: options.task });
  const check = async (study: StudyBinding, signal?: AbortSignal) => {
    await clientFor(options.taskModel, study).check(signal);
    if (metric.kind === 'judge' && metric.model.name !== options.taskModel.name) await clientFor(metric.model, study).check(signal);
  };
  return { evaluate, version, check };
}
