// A study: the research, evolve or pipeline page, by the study's kind.
import * as research from './research-page.js';
import * as evolve from './evolve-page.js';
import * as pipeline from './pipeline-page.js';

// The summary (a research study's table comes a page at a time, its chart thinned; evolve and pipeline studies get their whole view).
export const url = (params) => `/api/studies/${params.study}/summary?${research.summaryQuery(document.getElementById('app'), params.study)}`;

export function render(root, data, params) {
  (data.kind === 'evolve' ? evolve : data.kind === 'pipeline' ? pipeline : research).render(root, data, params);
}

export function tick(node) {
  research.tick(node);
}
