/**
 * Markup built from code, never from strings: every text and attribute value
 * is escaped on the way in, so untrusted text (descriptions, diffs, logs,
 * prompts) can only ever show as text. Tag and attribute names come from our
 * code and are checked anyway.
 */
export class Markup {
  readonly html: string;
  constructor(html: string) {
    this.html = html;
  }
  toString(): string {
    return this.html;
  }
}

/** Anything `h` accepts as a child. Strings and numbers are escaped; null, undefined and false render nothing. */
export type Child = Markup | string | number | null | undefined | false | readonly Child[];
export type Attributes = Record<string, string | number | boolean | null | undefined>;

const NAME = /^[a-zA-Z][a-zA-Z0-9:-]*$/;
const VOID = new Set(['br', 'hr', 'img', 'meta', 'link', 'input', 'col']);

/** Escape text for HTML/XML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

/**
 * Build an element. `true` attributes render bare, `false`/null/undefined are
 * left out; an `href` must be relative, a fragment, or http(s).
 *
 * @example
 * h('td', { class: 'num' }, trial.description).html; // '<td class="num">&lt;script&gt;…</td>'
 */
export function h(tag: string, attributes: Attributes | null, ...children: Child[]): Markup {
  if (!NAME.test(tag)) throw new Error(`invalid tag name ${JSON.stringify(tag)}`);
  let open = `<${tag}`;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (!NAME.test(name) || /^on/i.test(name)) throw new Error(`invalid attribute name ${JSON.stringify(name)}`);
    if ((name === 'href' || name === 'src') && typeof value === 'string' && !safeUrl(value)) throw new Error(`unsafe ${name}: ${JSON.stringify(value)}`);
    open += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  if (VOID.has(tag)) return new Markup(`${open}>`);
  return new Markup(`${open}>${render(children)}</${tag}>`);
}

/** Concatenate children into markup. */
export function render(child: Child): string {
  if (child === null || child === undefined || child === false) return '';
  if (child instanceof Markup) return child.html;
  if (Array.isArray(child)) return (child as readonly Child[]).map(render).join('');
  return escapeHtml(String(child));
}

/** Markup from a trusted constant in our own code (a stylesheet, a doctype). Never pass data here. */
export function trusted(html: string): Markup {
  return new Markup(html);
}

function safeUrl(url: string): boolean {
  return /^(#|\.{0,2}\/|[\w.-]+(\/|$)|https?:\/\/|data:image\/(png|svg\+xml);)/i.test(url) && !/^\s*javascript:/i.test(url);
}
