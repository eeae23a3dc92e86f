// A list of model calls with their cost; each opens to its request and reply.
import { el } from './dom.js';
import * as f from './format.js';

function pretty(json) {
  if (!json) return '';
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json; // not JSON after all: show it as it was stored
  }
}

export function llmCalls(calls) {
  if (!calls.length) return el('p', { class: 'muted', text: 'No model calls for this one.' });
  const total = calls.reduce((sum, call) => sum + (call.usd ?? 0), 0);
  return el(
    'div',
    { class: 'calls' },
    el('p', { class: 'muted', text: `${calls.length} call${calls.length === 1 ? '' : 's'} · ${f.usd(total)} · ${f.integer(calls.reduce((s, c) => s + (c.input_tokens ?? 0), 0))} tokens in, ${f.integer(calls.reduce((s, c) => s + (c.output_tokens ?? 0), 0))} out` }),
    calls.map((call) =>
      el(
        'details',
        { class: 'call', dataset: { key: `call-${call.id}` } },
        el(
          'summary',
          null,
          el('strong', { text: call.role }),
          el('code', { text: call.model }),
          el('span', { class: 'num', text: f.usd(call.usd) }),
          el('span', { class: 'muted', text: `${f.integer(call.input_tokens)} in · ${f.integer(call.output_tokens)} out · ${call.latency_ms === null ? 'unfinished' : f.duration(call.latency_ms / 1000)}` }),
          call.error ? el('span', { class: 'badge crash', text: 'error' }) : call.finish_reason ? el('span', { class: 'faint', text: call.finish_reason }) : null,
        ),
        call.error ? el('div', { class: 'error-box', text: call.error }) : null,
        el('div', { class: 'k muted', text: 'request' }),
        el('pre', { class: 'block', text: pretty(call.request) }),
        el('div', { class: 'k muted', text: 'reply' }),
        el('pre', { class: 'block', text: call.response ?? '' }),
      ),
    ),
  );
}
