import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeJson, terminalLine, terminalText } from '../../src/core/terminal-text.ts';

/** Anything a terminal acts on: C0 (but tab and newline), DEL, C1, direction overrides. */
const ACTED_ON = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('terminal text', () => {
  it('strips CSI, OSC, DCS/APC strings, 8-bit C1 forms, bidi overrides and stray controls; keeps the words', () => {
    expect(terminalText('lower lr\x1b]0;pwned\x07 \x1b[2Agood')).toBe('lower lr good');
    expect(terminalText('\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\')).toBe('click');
    expect(terminalText('a\x1bPq#0;2\x1b\\b\x1b_apc\x1b\\c')).toBe('abc');
    expect(terminalText('x\x9b2Jy\x9d0;t\x07z')).toBe('xyz');
    expect(terminalText('safe \u202eelif.exe')).toBe('safe elif.exe');
    expect(terminalText('bell\x07 back\x08 cr\r')).toBe('bell back cr');
    expect(terminalText('unterminated \x1b]0;title to the end')).toBe('unterminated ');
    expect(terminalText('two lines\n\tindented, 中文, é, 🎉')).toBe('two lines\n\tindented, 中文, é, 🎉');
    expect(terminalLine('fix #3:\n\x1b[31mdefine x\tnow')).toBe('fix #3: define x now');
  });

  it('never leaves anything a terminal acts on, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(ACTED_ON.test(terminalText(text))).toBe(false);
        expect(/[\t\n]/.test(terminalLine(text))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes in JSON what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { description: 'a\x1b]0;t\x07\u202e\x9b\u2028b', n: 1 };
    const json = safeJson(value, 2);
    expect(ACTED_ON.test(json.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(json)).toEqual(value);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (text) => {
        const encoded = safeJson({ text });
        expect(ACTED_ON.test(encoded)).toBe(false);
        expect(JSON.parse(encoded)).toEqual({ text });
      }),
      { numRuns: 1000 },
    );
  });
});
