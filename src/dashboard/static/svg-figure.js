// Figures the server draws as SVG (lineage, Pareto heatmap), placed inline so
// their links work. The server builds them with every text escaped; the
// document is parsed as SVG, never as HTML, and only an <svg> root is taken.
import { el } from './dom.js';

const cache = new Map();

/** Draw the figure at `url` into `container`; false when the server has none to draw (204: the container is emptied). */
export async function loadFigure(container, url) {
  // Show the last drawing at once, so a live update does not flash an empty box.
  if (cache.has(url)) container.replaceChildren(cache.get(url).cloneNode(true));
  const response = await fetch(url);
  if (response.status === 204) {
    container.replaceChildren();
    return false;
  }
  if (!response.ok) {
    container.replaceChildren(el('p', { class: 'muted', text: `could not load the figure (${response.status})` }));
    return true;
  }
  const doc = new DOMParser().parseFromString(await response.text(), 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.namespaceURI !== 'http://www.w3.org/2000/svg' || svg.localName !== 'svg') {
    container.replaceChildren(el('p', { class: 'muted', text: 'the figure is not an SVG' }));
    return true;
  }
  const node = document.importNode(svg, true);
  cache.set(url, node.cloneNode(true));
  container.replaceChildren(node);
  return true;
}
