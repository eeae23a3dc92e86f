/**
 * One colour per trial status, shared by the SVG charts and (as CSS variables
 * in static/style.css) the dashboard: green kept, grey discarded, red crashed,
 * amber timed out, purple invalid.
 */
export const STATUS_COLORS: Readonly<Record<string, string>> = {
  keep: '#1a7f37',
  discard: '#8c959f',
  crash: '#cf222e',
  timeout: '#bf8700',
  invalid: '#8250df',
  interrupted: '#6e7781',
  running: '#0969da',
  queued: '#0969da',
};

export const HOLDOUT_COLOR = '#e16f24';
export const INK = '#1f2328';
export const MUTED = '#656d76';
export const GRID = '#eaeef2';

export function statusColor(status: string): string {
  return STATUS_COLORS[status] ?? MUTED;
}
