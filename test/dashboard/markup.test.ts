import { describe, expect, it } from 'vitest';
import { escapeHtml, h, render, trusted } from '../../src/dashboard/render/markup.ts';
import { isLoopback } from '../../src/dashboard/server/access-guard.ts';
import { linearScale, niceStep } from '../../src/dashboard/render/chart-scale.ts';

describe('markup', () => {
  it('escapes text and attribute values', () => {
    expect(h('td', { title: '"><script>x</script>' }, '<img src=x onerror=alert(1)>').html).toBe(
      '<td title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">&lt;img src=x onerror=alert(1)&gt;</td>',
    );
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('refuses event-handler attributes, odd names and script URLs', () => {
    expect(() => h('a', { onclick: 'x' })).toThrow(/invalid attribute/);
    expect(() => h('a', { 'x"y': '1' })).toThrow(/invalid attribute/);
    expect(() => h('a b', null)).toThrow(/invalid tag/);
    expect(() => h('a', { href: 'javascript:alert(1)' })).toThrow(/unsafe href/);
    expect(h('a', { href: '#candidate-3' }).html).toBe('<a href="#candidate-3"></a>');
    expect(h('a', { href: 'night-progress.svg' }).html).toBe('<a href="night-progress.svg"></a>');
  });

  it('renders nested children, skips empty ones, and leaves trusted constants alone', () => {
    expect(render([h('b', null, 1), null, false, undefined, ['x', [' & y']]])).toBe('<b>1</b>x &amp; y');
    expect(h('style', null, trusted('a > b {}')).html).toBe('<style>a > b {}</style>');
    expect(h('br', { class: 'x' }).html).toBe('<br class="x">');
  });
});

describe('chart scale', () => {
  it('picks round ticks covering the data', () => {
    expect(niceStep(0.23)).toBe(0.2);
    expect(niceStep(7)).toBe(5);
    const y = linearScale([2.1, 1.7], [300, 20]);
    expect(y.ticks[0]).toBeGreaterThanOrEqual(y.domain[0]);
    expect(y.ticks.at(-1)).toBeLessThanOrEqual(y.domain[1]);
    expect(y(y.domain[0])).toBe(300);
    expect(linearScale([5, 5], [0, 100]).domain[0]).toBeLessThan(5);
  });
});

describe('loopback detection', () => {
  it('knows which addresses only this machine reaches', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.1.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.4', 'example.com', '127.0.0.1.nip.io']) expect(isLoopback(host), host).toBe(false);
  });
});
