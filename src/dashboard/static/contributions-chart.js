// The research page's contributions chart: what `strata verify` measured of
// each kept change (drawn by the server as SVG, every description escaped).
// The card stays hidden while the study has no verify (the figure answers 204).
import { card, el } from './dom.js';
import { loadFigure } from './svg-figure.js';

/** The card, hidden until a verify exists; `update(view)` redraws it when the study moved. */
export function contributionsCard() {
  const figure = el('div', { class: 'figure contributions', id: 'contributions-chart' });
  const node = card('Verified contributions · each kept change left out in turn (strata verify)', null, figure);
  node.hidden = true;
  let drawnFor = null;
  return {
    node,
    async update(view) {
      // A verify run finishing, or a verify session starting or ending, moves one of these.
      const key = `${view.study.id}:${view.finished}:${view.study.state}:${view.study.updated_at}`;
      if (key === drawnFor) return;
      drawnFor = key;
      const drawn = await loadFigure(figure, `/api/studies/${view.study.id}/figures/contributions.svg`);
      node.hidden = !drawn;
      figure.dataset.state = drawn ? 'drawn' : 'none';
    },
  };
}
