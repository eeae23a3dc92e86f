/** A linear map from data to pixels, with "nice" tick values for its axis. */
export interface LinearScale {
  (value: number): number;
  ticks: number[];
  domain: [number, number];
}

/**
 * A linear scale over the finite values given, padded by `pad` of the span
 * and widened to round tick steps.
 *
 * @example
 * const y = linearScale([2.1, 1.7], [300, 20]); y(2.1); y.ticks; // [1.6, 1.8, 2, 2.2]
 */
export function linearScale(values: readonly (number | null)[], range: [number, number], options: { pad?: number; count?: number } = {}): LinearScale {
  const finite = values.filter((value): value is number => value !== null && Number.isFinite(value));
  let low = finite.length ? Math.min(...finite) : 0;
  let high = finite.length ? Math.max(...finite) : 1;
  if (low === high) {
    const spread = Math.abs(low) * 0.05 || 1;
    low -= spread;
    high += spread;
  }
  const pad = (high - low) * (options.pad ?? 0);
  low -= pad;
  high += pad;
  const step = niceStep((high - low) / (options.count ?? 5));
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) ticks.push(roundTo(tick, step));
  const [from, to] = range;
  const scale = ((value: number) => from + ((value - low) / (high - low)) * (to - from)) as LinearScale;
  scale.ticks = ticks;
  scale.domain = [low, high];
  return scale;
}

/** 1, 2 or 5 times a power of ten, near `raw`. */
export function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10) * power;
}

function roundTo(value: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(12, digits)));
}

/** A tick label: short, without float noise. */
export function tickLabel(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}
