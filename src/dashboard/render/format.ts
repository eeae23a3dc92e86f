import { formatDuration } from '../../core/duration.ts';

/** A metric with enough digits to see small improvements (the terminal's formatting). */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(4) : String(Number(value.toPrecision(6)));
}

/** A signed raw difference, e.g. `-0.0132`. */
export function formatDelta(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${formatMetric(Math.abs(value))}`;
}

/** Dollars: cents for ordinary amounts, more digits for the small ones LLM calls cost. */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '$0';
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`;
}

export function formatSeconds(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '–' : formatDuration(seconds * 1000);
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  return fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(digits)}%`;
}
