// The control panel of a research study: add a note, pause, pause now,
// resume, stop, veto a kept trial. Every action is a POST with the write
// token in a header (fetched once, same-origin); destructive ones ask first.
// The trial table's per-row Veto buttons go through confirmVeto here.
// Answers are shown as text, never as markup.
import { card, el, replace } from './dom.js';

let token;

async function writeToken() {
  token ??= fetch('/api/session', { headers: { accept: 'application/json' } }).then((response) => response.json()).then((body) => body.writeToken);
  return token;
}

async function act(studyId, action, body, out) {
  replace(out, `${action}…`);
  try {
    const response = await fetch(`/api/studies/${studyId}/oversight/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-strata-write-token': await writeToken() },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    out.dataset.outcome = response.ok ? 'ok' : 'refused';
    replace(out, response.ok ? (answer.outcome ?? (answer.note ? `note ${answer.note.id} added; the next proposal reads it` : 'done')) : answer.error);
  } catch (error) {
    out.dataset.outcome = 'refused';
    replace(out, `could not reach the dashboard: ${error.message}`);
  }
}

const VETO_QUESTION = 'Undo this kept change? The branch is rebuilt without it.';

/**
 * Veto trial `seq` after the same confirmation the panel asks for; the answer
 * goes to the panel's outcome line. The trial table's Veto buttons use it.
 */
export function confirmVeto(studyId, seq, why) {
  const out = document.getElementById('oversight-outcome');
  if (!globalThis.confirm(`Veto #${seq}: ${VETO_QUESTION}`)) return;
  act(studyId, 'veto', { trial: seq, why: why ?? document.getElementById('veto-why')?.value ?? '' }, out);
}

/** The panel for `view` (a research view). */
export function oversightPanel(view) {
  const id = view.study.id;
  const out = el('p', { class: 'muted', id: 'oversight-outcome', 'aria-live': 'polite' });
  const note = el('textarea', { id: 'note-text', rows: '2', placeholder: 'a note for the next proposal, e.g. leave the tokenizer alone' });
  const vetoTrial = el('input', { id: 'veto-trial', type: 'number', min: '1', placeholder: 'trial #' });
  const vetoWhy = el('input', { id: 'veto-why', type: 'text', placeholder: 'why' });
  const confirmThen = (question, run) => () => {
    if (globalThis.confirm(question)) run();
  };
  const button = (label, idName, onClick) => el('button', { type: 'button', id: idName, onClick }, label);
  return card(
    'Steer',
    null,
    el('div', { class: 'oversight' },
      el('div', null, note, button('Add note', 'add-note', () => act(id, 'note', { text: note.value }, out))),
      el('div', null,
        button('Pause', 'pause', () => act(id, 'pause', {}, out)),
        button('Pause now', 'pause-now', confirmThen('Stop the running trial now and pause? It runs again on resume.', () => act(id, 'pause-now', {}, out))),
        button('Resume', 'resume', () => act(id, 'resume', {}, out)),
        button('Stop', 'stop', confirmThen('End this study for good?', () => act(id, 'stop', {}, out))),
      ),
      el('div', null, vetoTrial, vetoWhy, button('Veto', 'veto', confirmThen(VETO_QUESTION, () => act(id, 'veto', { trial: Number(vetoTrial.value), why: vetoWhy.value }, out)))),
      out,
    ),
  );
}
