// DOM building without markup strings: text always goes in as textContent,
// so descriptions, diffs, logs and prompts can never become HTML.

/**
 * Create an element. `attrs` keys: `class`, `text`, `dataset`, `on<Event>`
 * (a listener), anything else as an attribute. Children: nodes, strings
 * (as text), arrays, or null/false (skipped).
 */
export function el(tag, attrs, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'href' && !/^(\/|#|\?)/.test(String(value))) throw new Error(`refusing a non-local link: ${value}`);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A status pill. */
export function badge(status, label) {
  return el('span', { class: `badge ${/^[a-z_]+$/.test(status) ? status : 'neutral'}`, text: label ?? status.replace(/_/g, ' ') });
}

/** A stat card. */
export function stat(label, value, note, extra) {
  return el('div', { class: 'stat' }, el('div', { class: 'label', text: label }), value instanceof Node ? value : el('div', { class: 'value', text: value }), note ? el('div', { class: 'note', text: note }) : null, extra ?? null);
}

/** A card with a heading and optional tools on the right. */
export function card(title, tools, ...body) {
  return el('section', { class: 'card' }, el('div', { class: 'card-head' }, el('h2', { text: title }), tools ?? null), ...body);
}

/** Breadcrumbs in the top bar: [[label, href?], ...]. */
export function setCrumbs(items) {
  const nav = document.getElementById('crumbs');
  const parts = [];
  items.forEach(([label, href], index) => {
    if (index > 0) parts.push(el('span', { class: 'sep', text: '/' }));
    parts.push(href ? el('a', { href, text: label }) : el('span', { text: label }));
  });
  replace(nav, parts);
  document.title = items.length ? `${items.at(-1)[0]} · strata` : 'strata';
}
