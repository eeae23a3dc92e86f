import { generateText, type FinishReason, type ModelMessage, type ToolChoice, type ToolSet } from 'ai';
import type { ModelPrices, ModelSpec } from '../core/config/llm-config.ts';
import { DEFAULT_LLM_TIMEOUT_MS } from '../core/config/llm-config.ts';
import { errorMessage } from '../core/errors.ts';
import { Random } from '../core/random.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { callDeadline } from './call-deadline.ts';
import { boundText, TEXT_LIMITS } from '../ledger/bounded-text.ts';
import { recordCallFinished, recordCallStarted } from './call-ledger.ts';
import { LlmCallError, LlmConfigError, LlmUnavailableError } from './errors.ts';
import { costUsd, pricesFor } from './price-table.ts';
import { DEFAULT_KEY_ENV, resolveLanguageModel, type ModelObject } from './resolve-model.ts';
import { classifyFailure, DEFAULT_RETRY_POLICY, retryDelayMs, type Failure, type RetryPolicy } from './retry-policy.ts';
import type { UsdBudget, UsdReservation } from './usd-budget.ts';

export interface ModelClientOptions {
  /** A model from config, or an AI SDK model object (library use, tests with mock models). */
  model: ModelSpec | ModelObject;
  /** Ledger name of an object model; default `provider:modelId`. */
  name?: string;
  /** Price override; default: the spec's `prices`, else the built-in table. */
  prices?: ModelPrices;
  /** Where calls are recorded (table `llm_calls`); none = not recorded. */
  ledger?: Ledger;
  studyId?: number | null;
  /** Shared USD cap; each call reserves its worst case first. */
  budget?: UsdBudget;
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Output cap when a request gives none; also bounds the cost reservation (default 4096). */
  defaultMaxOutputTokens?: number;
  env?: NodeJS.ProcessEnv;
  /** Keep prompts and replies (truncated) in the ledger (default true). */
  recordContent?: boolean;
  /**
   * Commit each call's end with the ledger's next write (`Ledger.defer`)
   * instead of on its own: for calls made many at a time (evaluations), whose
   * ends then share a commit with the next call's start. A call's start is
   * always committed before the request goes out.
   */
  batchEnds?: boolean;
  /**
   * Send plain text calls (a prompt, no messages or tools) straight to the
   * model's `doGenerate` (the AI SDK's LanguageModelV4 interface) instead of
   * through `generateText`, whose per-call machinery (prompt and settings
   * validation, telemetry, steps) cost about as much CPU as the HTTP request
   * itself: for calls made by the thousand (evaluations). The reply is read
   * the way generateText reads it (text parts joined, the unified finish
   * reason, total tokens); other calls and other model versions go through
   * generateText.
   */
  direct?: boolean;
}

/** One request: a prompt or messages, optional tools (without `execute`: the caller runs them). */
export interface ModelCallRequest {
  /** Who is calling: `reflection`, `task`, `judge`, `agent`, `check`… (a column of `llm_calls`). */
  role: string;
  system?: string;
  prompt?: string;
  messages?: ModelMessage[];
  tools?: ToolSet;
  toolChoice?: ToolChoice<ToolSet>;
  maxOutputTokens?: number;
  temperature?: number;
  seed?: number;
  trialId?: number | null;
  candidateId?: number | null;
  signal?: AbortSignal;
}

export interface ModelCallResult {
  text: string;
  finishReason: FinishReason;
  toolCalls: { toolCallId: string; toolName: string; input: unknown }[];
  /** Assistant/tool messages to append to the conversation for the next step. */
  responseMessages: ModelMessage[];
  inputTokens: number | null;
  outputTokens: number | null;
  /** Null when the model's price is unknown. */
  usd: number | null;
  latencyMs: number;
  /** Attempts made (1 = no retry). */
  attempts: number;
  /** Row id in `llm_calls` of the successful attempt; null without a ledger. */
  callId: number | null;
}


/**
 * One model with everything around a call: the USD reservation, retries with
 * backoff honoring Retry-After (and a shared pause for every caller of this
 * model after a 429), a per-attempt timeout, and one `llm_calls` row per
 * attempt with tokens, USD, latency, finish reason and error.
 *
 * @example
 * const client = new ModelClient({ model: spec, ledger, studyId, budget: new UsdBudget(10) });
 * const reply = await client.call({ role: 'reflection', system: 'You improve prompts.', prompt, maxOutputTokens: 2000 });
 * reply.text; reply.usd; reply.finishReason;
 */
export class ModelClient {
  readonly name: string;
  readonly prices: ModelPrices | undefined;
  private readonly model: ModelObject;
  private readonly options: ModelClientOptions;
  private readonly policy: RetryPolicy;
  private readonly jitter = Random.fromSeed('model-client-jitter');
  private cooldownUntil = 0;

  constructor(options: ModelClientOptions) {
    this.options = options;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (isModelObject(options.model)) {
      this.model = options.model;
      const provider = String(options.model.provider).split('.')[0] ?? '';
      this.name = options.name ?? `${provider}:${options.model.modelId}`;
      this.prices = pricesFor(provider, options.model.modelId, options.prices);
    } else {
      this.model = resolveLanguageModel(options.model, options.env);
      this.name = options.name ?? options.model.name;
      this.prices = pricesFor(options.model.provider, options.model.modelId, options.prices ?? options.model.prices);
    }
    if (!this.prices && options.budget?.capUsd != null) {
      throw new LlmConfigError(
        `no price is known for ${this.name}, so a USD cap cannot be enforced; add prices: {input_per_mtok, output_per_mtok} to its config`,
        { model: this.name },
      );
    }
  }

  /** Worst-case USD of a request (input estimated from its length, output at its cap); null when the price is unknown. */
  estimateUsd(request: ModelCallRequest): number | null {
    if (!this.prices) return null;
    return costUsd(this.prices, estimateInputTokens(request), request.maxOutputTokens ?? this.defaultMaxOutputTokens);
  }

  /** A cheap call that proves the key, endpoint and model id work, before a study spends anything else. */
  async check(signal?: AbortSignal): Promise<ModelCallResult> {
    return this.call({ role: 'check', prompt: 'Reply with the single word OK.', maxOutputTokens: 16, ...(signal ? { signal } : {}) });
  }

  async call(request: ModelCallRequest): Promise<ModelCallResult> {
    if ((request.prompt === undefined) === (request.messages === undefined)) {
      throw new TypeError('a model request needs exactly one of prompt or messages');
    }
    const maxOutputTokens = request.maxOutputTokens ?? this.defaultMaxOutputTokens;
    const estimate = this.estimateUsd({ ...request, maxOutputTokens });
    for (let attempt = 1; ; attempt++) {
      await abortableSleep(this.cooldownUntil - Date.now(), request.signal);
      const hold: UsdReservation | undefined = this.options.budget?.reserve(estimate ?? 0, request.role);
      const callId = this.recordStart(request, estimate);
      const started = performance.now();
      const deadline = callDeadline(request.signal, this.options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS);
      try {
        const direct = this.options.direct && request.prompt !== undefined && !request.tools ? directModel(this.model) : null;
        const result: Generated = direct
          ? await generateDirect(direct, request, maxOutputTokens, deadline.signal)
          : await generateText({
              model: this.model,
              ...(request.system !== undefined ? { system: request.system } : {}),
              ...(request.prompt !== undefined ? { prompt: request.prompt } : { messages: request.messages! }),
              ...(request.tools ? { tools: request.tools } : {}),
              ...(request.toolChoice ? { toolChoice: request.toolChoice } : {}),
              ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
              ...(request.seed !== undefined ? { seed: request.seed } : {}),
              maxOutputTokens,
              maxRetries: 0,
              abortSignal: deadline.signal,
            });
        const latencyMs = Math.round(performance.now() - started);
        const inputTokens = result.usage.inputTokens ?? null;
        const outputTokens = result.usage.outputTokens ?? null;
        const usd = this.prices ? costUsd(this.prices, inputTokens ?? estimateInputTokens(request), outputTokens ?? maxOutputTokens) : null;
        if (hold) this.options.budget!.settle(hold, usd ?? 0);
        this.recordEnd(callId, { inputTokens, outputTokens, usd, latencyMs, finishReason: result.finishReason, error: null, responseText: truncate(result.text) });
        return {
          text: result.text,
          finishReason: result.finishReason,
          toolCalls: result.toolCalls.map((call) => ({ toolCallId: call.toolCallId, toolName: call.toolName, input: call.input })),
          responseMessages: result.responseMessages,
          inputTokens,
          outputTokens,
          usd,
          latencyMs,
          attempts: attempt,
          callId,
        };
      } catch (error) {
        const failure = classifyFailure(error, { timedOut: deadline.timedOut() && !request.signal?.aborted, aborted: request.signal?.aborted === true, now: Date.now() });
        // A timed-out request was probably processed and billed for its input; an HTTP error was not.
        const charged = failure.kind === 'timeout' && this.prices ? costUsd(this.prices, estimateInputTokens(request), 0) : 0;
        if (hold) this.options.budget!.settle(hold, charged);
        const latencyMs = Math.round(performance.now() - started);
        this.recordEnd(callId, { inputTokens: null, outputTokens: null, usd: this.prices ? charged : null, latencyMs, finishReason: null, error: `${failure.kind}: ${errorMessage(error)}`.slice(0, 2000), responseText: null });
        if (failure.kind === 'aborted') throw request.signal!.reason ?? error;
        if (!failure.retryable) throw new LlmCallError(this.describe(failure, error), { cause: error, model: this.name, role: request.role, ...(failure.status !== undefined ? { status: failure.status } : {}) });
        const delay = attempt > this.policy.maxRetries ? null : retryDelayMs(attempt, failure, this.policy, this.jitter.next());
        if (delay === null) {
          const why = attempt > this.policy.maxRetries ? `after ${attempt} attempts` : `(the server asked to wait ${Math.round(failure.retryAfterMs! / 1000)}s)`;
          throw new LlmUnavailableError(`${this.name} is unavailable ${why}: ${failure.kind}: ${errorMessage(error)}; the study pauses; resume it when the provider recovers`, {
            cause: error,
            model: this.name,
            role: request.role,
            attempts: attempt,
          });
        }
        if (failure.kind === 'rate_limit') this.cooldownUntil = Math.max(this.cooldownUntil, Date.now() + delay);
        await abortableSleep(delay, request.signal);
      } finally {
        deadline.dispose();
      }
    }
  }

  private get defaultMaxOutputTokens(): number {
    return this.options.defaultMaxOutputTokens ?? 4096;
  }

  private describe(failure: Failure, error: unknown): string {
    const detail = errorMessage(error);
    if (failure.status === 401 || failure.status === 403) {
      const model = this.options.model;
      const variable = isModelObject(model) ? 'the API key' : (model.apiKeyEnv ?? DEFAULT_KEY_ENV[model.provider] ?? 'api_key_env');
      return `${this.name}: the endpoint refused the key (HTTP ${failure.status}); check ${variable}: ${detail}`;
    }
    if (failure.status === 404) return `${this.name}: the endpoint does not know this model (HTTP 404); check the model id and base_url: ${detail}`;
    if (failure.kind === 'malformed') return `${this.name}: the reply could not be read: ${detail}`;
    return `${this.name}: the call failed (HTTP ${failure.status ?? '?'}): ${detail}`;
  }

  private recordStart(request: ModelCallRequest, estimate: number | null): number | null {
    const ledger = this.options.ledger;
    if (!ledger) return null;
    const content = this.options.recordContent !== false;
    return recordCallStarted(ledger, {
      studyId: this.options.studyId ?? null,
      trialId: request.trialId ?? null,
      candidateId: request.candidateId ?? null,
      role: request.role,
      model: this.name,
      reservedUsd: estimate,
      request: content
        ? {
            system: request.system === undefined ? undefined : truncate(request.system),
            prompt: request.prompt === undefined ? undefined : truncate(request.prompt),
            messages: request.messages === undefined ? undefined : truncate(JSON.stringify(request.messages)),
            tools: request.tools ? Object.keys(request.tools) : undefined,
            maxOutputTokens: request.maxOutputTokens,
          }
        : null,
    });
  }

  private recordEnd(callId: number | null, end: Parameters<typeof recordCallFinished>[2]): void {
    const ledger = this.options.ledger;
    if (callId === null || !ledger) return;
    const recorded = this.options.recordContent === false ? { ...end, responseText: null } : end;
    const studyId = this.options.studyId ?? null;
    if (this.options.batchEnds) ledger.defer(() => recordCallFinished(ledger, callId, recorded, studyId));
    else recordCallFinished(ledger, callId, recorded, studyId);
  }
}

/** What a call needs of a generateText result. */
interface Generated {
  text: string;
  finishReason: FinishReason;
  usage: { inputTokens?: number | undefined; outputTokens?: number | undefined };
  toolCalls: readonly { toolCallId: string; toolName: string; input: unknown }[];
  responseMessages: ModelMessage[];
}

type DirectModel = Extract<ModelObject, { specificationVersion: 'v4' }>;

/** The model when it speaks the interface generateDirect calls; null for older ones (generateText adapts those). */
function directModel(model: ModelObject): DirectModel | null {
  return model.specificationVersion === 'v4' ? (model as DirectModel) : null;
}

/** One plain text call through doGenerate, read as generateText reads a single step without tools. */
async function generateDirect(model: DirectModel, request: ModelCallRequest, maxOutputTokens: number, abortSignal: AbortSignal): Promise<Generated> {
  const result = await model.doGenerate({
    prompt: [...(request.system !== undefined ? [{ role: 'system' as const, content: request.system }] : []), { role: 'user' as const, content: [{ type: 'text' as const, text: request.prompt! }] }],
    maxOutputTokens,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    abortSignal,
  });
  let text = '';
  for (const part of result.content) if (part.type === 'text') text += part.text;
  return {
    text,
    finishReason: result.finishReason.unified,
    usage: { inputTokens: result.usage.inputTokens.total, outputTokens: result.usage.outputTokens.total },
    toolCalls: [],
    responseMessages: text === '' ? [] : [{ role: 'assistant', content: [{ type: 'text', text }] }],
  };
}

function isModelObject(model: ModelSpec | ModelObject): model is ModelObject {
  return typeof model === 'object' && 'specificationVersion' in model;
}

/** A deliberately generous guess (3 characters a token) so reservations err high. */
function estimateInputTokens(request: ModelCallRequest): number {
  let chars = (request.system?.length ?? 0) + (request.prompt?.length ?? 0);
  if (request.messages) chars += JSON.stringify(request.messages).length;
  if (request.tools) for (const [name, tool] of Object.entries(request.tools)) chars += name.length + (tool.description?.length ?? 0) + 400;
  return Math.ceil(chars / 3) + 16;
}

/** A reply or a part of a request as the ledger keeps it: its start, and past the limit its length and sha256. */
function truncate(text: string): string {
  return boundText(text, TEXT_LIMITS.modelText);
}
