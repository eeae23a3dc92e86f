/**
 * Untrusted text on its way to a terminal: descriptions a proposer wrote,
 * reasons quoting a trial's output, log tails, model replies. A terminal
 * acts on control sequences in what it prints: an OSC sets the window title
 * or writes the clipboard, cursor moves and erases rewrite lines already
 * shown, bidirectional overrides make text read differently than it is.
 * Every command strips them from such text before printing it; `--json`
 * output escapes them (safeJson).
 */

/**
 * Escape sequences a terminal interprets: CSI (`ESC [` … final byte), OSC
 * (`ESC ]` … BEL or ST), DCS, SOS, PM and APC strings (`ESC P|X|^|_` … ST),
 * the two-byte and nF escapes, and the 8-bit C1 forms of CSI, OSC and the
 * string introducers. An unterminated string runs to the end of the text,
 * as a terminal would take it.
 */
// eslint-disable-next-line no-control-regex
const SEQUENCES = /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g;
/** Control characters left over (C0 but tab and newline, DEL, C1) and the invisible direction marks and overrides. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` without control sequences or control characters; tabs and newlines stay.
 *
 * @example
 * terminalText('lower lr\x1b]0;pwned\x07 \x1b[2Agood'); // 'lower lr good'
 */
export function terminalText(text: string): string {
  return text.replace(SEQUENCES, '').replace(CONTROLS, '');
}

/**
 * `text` as one line: control sequences stripped, tabs and newlines turned into spaces.
 *
 * @example
 * terminalLine('fix #3:\n\x1b[31mdefine x'); // 'fix #3: define x'
 */
export function terminalLine(text: string): string {
  return terminalText(text).replace(/[\t\n]+/g, ' ');
}

/** Characters JSON.stringify leaves as they are but a terminal may act on (C1 controls, direction overrides, line separators). */
const UNESCAPED_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify whose output carries no character a terminal acts on: C0
 * controls are escaped by JSON already, the rest as `\uXXXX` too. Parsing
 * it gives back exactly `value`.
 *
 * @example
 * safeJson({ description: 'a\x1b]0;t\x07\u202e' }); // '{"description":"a\\u001b]0;t\\u0007\\u202e"}'
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(UNESCAPED_IN_JSON, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
