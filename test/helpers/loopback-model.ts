/**
 * A scripted model server on 127.0.0.1 that speaks the OpenAI Chat
 * Completions wire format (and, for the `anthropic:` provider, the Messages
 * format), so tests run the real AI SDK client path over real HTTP.
 *
 * Routes (matched by suffix, so any base path works):
 * - `POST …/chat/completions`  OpenAI chat (non-streaming and `stream: true` SSE)
 * - `POST …/messages`          Anthropic messages (non-streaming)
 * - `GET  …/models`            `{ data: [{ id }] }` from `options.models`
 *
 * A script is either a list of replies served in order (a request after the
 * last one gets a 500 saying the script ran out, so a test fails loudly) or a
 * function from the parsed request to a reply. A reply can carry text, tool
 * calls, a finish reason, token usage, an HTTP error status with headers
 * (e.g. 429 with `retry-after`), a delay (slow responses, timeouts) or a raw
 * body (malformed replies).
 *
 * @example
 * const server = await LoopbackModelServer.start([
 *   { status: 429, headers: { 'retry-after': '0.05' } },
 *   { text: 'hello', usage: { input: 12, output: 3 } },
 *   { toolCalls: [{ name: 'read_file', arguments: { path: 'train.py' } }] },
 * ]);
 * // model string `openai-compatible:loop` with base_url: server.url
 * await server.close();
 *
 * @example
 * // A function script: answer from the request, with a fixed latency.
 * const server = await LoopbackModelServer.start((request) => ({ text: request.lastUserText.toUpperCase() }), { latencyMs: 50 });
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer. */
export interface LoopbackReply {
  /** Assistant text (may be empty). */
  text?: string;
  /** Tool calls; `arguments` is serialized to JSON unless already a string. */
  toolCalls?: { name: string; arguments: unknown; id?: string }[];
  /** OpenAI names; mapped to Anthropic's (`length` → `max_tokens`, `tool_calls` → `tool_use`). Default `stop`, or `tool_calls` when there are tool calls. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** Token usage; default: about one token per four characters of prompt and reply. */
  usage?: { input: number; output: number };
  /** A non-2xx status makes this an error reply (body `{ error: { message } }`). */
  status?: number;
  /** Extra response headers, e.g. `{ 'retry-after': '1' }`. */
  headers?: Record<string, string>;
  /** Error message for error replies. */
  error?: string;
  /** Wait this long before answering (added to the server's `latencyMs`). */
  delayMs?: number;
  /** Send this body verbatim with `status` (default 200): malformed replies. */
  body?: string;
}

/** A request as the script sees it. */
export interface LoopbackRequest {
  /** 0-based order of arrival. */
  index: number;
  path: string;
  api: 'openai-chat' | 'anthropic-messages';
  model: string;
  stream: boolean;
  /** System text (OpenAI system messages or Anthropic `system`), joined. */
  system: string;
  /** Messages with their content flattened to text (tool calls and results as JSON). */
  messages: { role: string; content: string }[];
  /** The text of the last user message. */
  lastUserText: string;
  /** Tool names offered to the model. */
  tools: string[];
  /** The raw JSON body. */
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export type LoopbackScript = readonly LoopbackReply[] | ((request: LoopbackRequest) => LoopbackReply | Promise<LoopbackReply>);

export interface LoopbackOptions {
  /** Fixed latency added to every reply (ms). */
  latencyMs?: number;
  /** Model ids listed by `GET /models` (default: any id is accepted and none listed). */
  models?: string[];
}

export class LoopbackModelServer {
  /** Base URL including `/v1`, for `base_url` / `baseURL`. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: LoopbackRequest[] = [];
  /** Requests being answered right now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  private script: LoopbackScript;
  private cursor = 0;
  private readonly server: Server;
  private readonly options: LoopbackOptions;

  private constructor(server: Server, url: string, script: LoopbackScript, options: LoopbackOptions) {
    this.server = server;
    this.url = url;
    this.script = script;
    this.options = options;
  }

  static async start(script: LoopbackScript, options: LoopbackOptions = {}): Promise<LoopbackModelServer> {
    let instance: LoopbackModelServer | undefined;
    const server = createServer((request, response) => {
      instance!.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: `loopback server error: ${String(error)}` } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    instance = new LoopbackModelServer(server, `http://127.0.0.1:${port}/v1`, script, options);
    return instance;
  }

  /** Replace the script (a list restarts from its first reply). */
  setScript(script: LoopbackScript): void {
    this.script = script;
    this.cursor = 0;
  }

  /** Replies of a list script not served yet. */
  get remaining(): number {
    return Array.isArray(this.script) ? this.script.length - this.cursor : Number.POSITIVE_INFINITY;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://loopback').pathname;
    if (request.method === 'GET' && path.endsWith('/models')) {
      sendJson(response, 200, { object: 'list', data: (this.options.models ?? []).map((id) => ({ id, object: 'model', owned_by: 'loopback' })) });
      return;
    }
    const api = path.endsWith('/chat/completions') ? 'openai-chat' : path.endsWith('/messages') ? 'anthropic-messages' : undefined;
    if (request.method !== 'POST' || !api) {
      sendJson(response, 404, { error: { message: `loopback: no route for ${request.method} ${path}` } });
      return;
    }
    const body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    const parsed = api === 'openai-chat' ? parseOpenAi(body) : parseAnthropic(body);
    const loopbackRequest: LoopbackRequest = {
      index: this.requests.length,
      path,
      api,
      model: String(body.model ?? ''),
      stream: body.stream === true,
      ...parsed,
      lastUserText: [...parsed.messages].reverse().find((m) => m.role === 'user')?.content ?? '',
      body,
      headers: request.headers,
    };
    this.requests.push(loopbackRequest);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const reply = await this.nextReply(loopbackRequest);
      const delay = (this.options.latencyMs ?? 0) + (reply.delayMs ?? 0);
      if (delay > 0) await sleepUnlessClosed(delay, response);
      if (response.destroyed) return;
      this.send(loopbackRequest, reply, response);
    } finally {
      this.inFlight--;
    }
  }

  private async nextReply(request: LoopbackRequest): Promise<LoopbackReply> {
    if (typeof this.script === 'function') return this.script(request);
    const list = this.script as readonly LoopbackReply[];
    const reply = list[this.cursor];
    if (!reply) return { status: 500, error: `loopback script exhausted: request #${request.index} has no scripted reply (${list.length} scripted)` };
    this.cursor++;
    return reply;
  }

  private send(request: LoopbackRequest, reply: LoopbackReply, response: ServerResponse): void {
    const headers = { ...reply.headers };
    if (reply.body !== undefined) {
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...headers });
      response.end(reply.body);
      return;
    }
    if (reply.status !== undefined && (reply.status < 200 || reply.status >= 300)) {
      const message = reply.error ?? `scripted error ${reply.status}`;
      const errorBody = request.api === 'anthropic-messages' ? { type: 'error', error: { type: 'api_error', message } } : { error: { message, type: 'loopback_error', code: reply.status } };
      sendJson(response, reply.status, errorBody, headers);
      return;
    }
    const promptChars = request.system.length + request.messages.reduce((n, m) => n + m.content.length, 0);
    const text = reply.text ?? '';
    const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? `call_${request.index}_${i}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    }));
    const usage = reply.usage ?? { input: Math.max(1, Math.ceil(promptChars / 4)), output: Math.max(1, Math.ceil((text.length + toolCalls.reduce((n, c) => n + c.arguments.length, 0)) / 4)) };
    const finish = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
    const reply200 = { request, text, toolCalls, usage, finish };
    if (request.api === 'anthropic-messages') sendJson(response, 200, anthropicBody(reply200), headers);
    else if (request.stream) sendOpenAiStream(response, reply200, headers);
    else sendJson(response, 200, openAiBody(reply200), headers);
  }
}

interface Completed {
  request: LoopbackRequest;
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  usage: { input: number; output: number };
  finish: NonNullable<LoopbackReply['finishReason']>;
}

function openAiBody(reply: Completed): Record<string, unknown> {
  return {
    id: `chatcmpl-loopback-${reply.request.index}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: reply.request.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text,
          ...(reply.toolCalls.length > 0
            ? { tool_calls: reply.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
            : {}),
        },
        finish_reason: reply.finish,
      },
    ],
    usage: { prompt_tokens: reply.usage.input, completion_tokens: reply.usage.output, total_tokens: reply.usage.input + reply.usage.output },
  };
}

function sendOpenAiStream(response: ServerResponse, reply: Completed, headers: Record<string, string>): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  const base = { id: `chatcmpl-loopback-${reply.request.index}`, object: 'chat.completion.chunk', created: 1_700_000_000, model: reply.request.model };
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => response.write(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  // Two text pieces so stream consumers see more than one delta.
  const half = Math.ceil(reply.text.length / 2);
  for (const piece of [reply.text.slice(0, half), reply.text.slice(half)]) if (piece) chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]);
  reply.toolCalls.forEach((c, i) =>
    chunk([{ index: 0, delta: { tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }] }, finish_reason: null }]),
  );
  chunk([{ index: 0, delta: {}, finish_reason: reply.finish }]);
  chunk([], { usage: { prompt_tokens: reply.usage.input, completion_tokens: reply.usage.output, total_tokens: reply.usage.input + reply.usage.output } });
  response.end('data: [DONE]\n\n');
}

function anthropicBody(reply: Completed): Record<string, unknown> {
  const stop = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' }[reply.finish];
  return {
    id: `msg_loopback_${reply.request.index}`,
    type: 'message',
    role: 'assistant',
    model: reply.request.model,
    content: [
      ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
      ...reply.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: JSON.parse(c.arguments) as unknown })),
    ],
    stop_reason: stop,
    stop_sequence: null,
    usage: { input_tokens: reply.usage.input, output_tokens: reply.usage.output },
  };
}

type Parsed = Pick<LoopbackRequest, 'system' | 'messages' | 'tools'>;

function parseOpenAi(body: Record<string, unknown>): Parsed {
  const all = (body.messages as { role: string; content?: unknown; tool_calls?: unknown }[] | undefined) ?? [];
  const system = all.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => flatten(m.content)).join('\n');
  const messages = all
    .filter((m) => m.role !== 'system' && m.role !== 'developer')
    .map((m) => ({ role: m.role, content: flatten(m.content) + (m.tool_calls ? JSON.stringify(m.tool_calls) : '') }));
  const tools = ((body.tools as { function?: { name?: string } }[] | undefined) ?? []).map((t) => String(t.function?.name ?? ''));
  return { system, messages, tools };
}

function parseAnthropic(body: Record<string, unknown>): Parsed {
  const system = flatten(body.system);
  const messages = ((body.messages as { role: string; content?: unknown }[] | undefined) ?? []).map((m) => ({ role: m.role, content: flatten(m.content) }));
  const tools = ((body.tools as { name?: string }[] | undefined) ?? []).map((t) => String(t.name ?? ''));
  return { system, messages, tools };
}

/** Message content as text: strings stay, text parts join, other parts become JSON. */
function flatten(content: unknown): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part: { type?: string; text?: string }) => (part.type === 'text' && typeof part.text === 'string' ? part.text : JSON.stringify(part))).join('');
  }
  return JSON.stringify(content);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Sleep, but return early when the client hangs up (a timed-out caller). */
function sleepUnlessClosed(ms: number, response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    response.once('close', done);
    function done() {
      clearTimeout(timer);
      response.off('close', done);
      resolve();
    }
  });
}
