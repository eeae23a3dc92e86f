// A study: the research page or the evolve page, by the study's kind.
import * as research from './research-page.js';
import * as evolve from './evolve-page.js';

export const url = (params) => `/api/studies/${params.study}`;

export function render(root, data, params) {
  (data.kind === 'evolve' ? evolve : research).render(root, data, params);
}

export function tick(node) {
  research.tick(node);
}
