// Router and live updates. Each page module exports `url(params)` (its JSON)
// and `render(root, data, params)`; on every ledger change the page refetches
// and renders again, keeping its own view state (filters, sort, toggles).
import { el, replace } from './dom.js';
import * as studyList from './study-list-page.js';
import * as studyPage from './study-page.js';
import * as trialPage from './trial-page.js';
import * as candidatePage from './candidate-page.js';

const ROUTES = [
  [/^\/$/, studyList, () => ({})],
  [/^\/study\/(\d+)\/?$/, studyPage, (m) => ({ study: m[1] })],
  [/^\/study\/(\d+)\/trial\/(\d+)\/?$/, trialPage, (m) => ({ study: m[1], seq: m[2] })],
  [/^\/study\/(\d+)\/candidate\/(\d+)\/?$/, candidatePage, (m) => ({ study: m[1], idx: m[2] })],
];

const root = document.getElementById('app');
let current;
let loading = false;
let again = false;
let retry;

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** Fetch and render the current page; a change arriving meanwhile triggers one more pass. */
async function refresh() {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const data = await getJson(current.page.url(current.params));
    // Whatever the reader opened (a proposal, a model call) stays open across live updates.
    const open = new Set([...root.querySelectorAll('details[data-key][open]')].map((node) => node.dataset.key));
    current.page.render(root, data, current.params);
    // The server sent a view older than the ledger (a very large study is rebuilt at most every few seconds): ask again then.
    clearTimeout(retry);
    if (data.refresh_after_ms) retry = setTimeout(refresh, data.refresh_after_ms);
    for (const node of root.querySelectorAll('details[data-key]')) if (open.has(node.dataset.key)) node.open = true;
    root.dataset.version = String(Number(root.dataset.version ?? 0) + 1);
  } catch (error) {
    replace(root, el('div', { class: 'error-box' }, el('strong', { text: 'Could not load this page. ' }), String(error.message ?? error)));
  } finally {
    loading = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function connectLive() {
  const badge = document.getElementById('live');
  const source = new EventSource('/api/live');
  source.addEventListener('hello', () => {
    badge.textContent = 'live';
    badge.classList.add('on');
  });
  // A busy study commits many times a second; one refresh per second is plenty.
  let timer;
  let last = 0;
  source.addEventListener('change', () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      last = Date.now();
      refresh();
    }, Math.max(0, 1000 - (Date.now() - last)));
  });
  source.addEventListener('error', () => {
    badge.textContent = 'reconnecting…';
    badge.classList.remove('on');
  });
}

function start() {
  const path = location.pathname;
  for (const [pattern, page, params] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      current = { page, params: params(match) };
      break;
    }
  }
  if (!current) {
    replace(root, el('div', { class: 'error-box', text: `No page at ${path}.` }), el('p', null, el('a', { href: '/', text: 'All studies' })));
    return;
  }
  refresh();
  connectLive();
  // Elapsed times of running trials tick without a refetch.
  setInterval(() => {
    for (const node of document.querySelectorAll('[data-started]')) current.page.tick?.(node);
  }, 1000);
}

start();
