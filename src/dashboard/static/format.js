// Number and time formatting, as the terminal output does it.

export function metric(value) {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(4) : String(Number(value.toPrecision(6)));
}

export function delta(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${metric(Math.abs(value))}`;
}

export function usd(value) {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '$0';
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const ms = seconds * 1000;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function percent(fraction, digits = 1) {
  return fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(digits)}%`;
}

export function signedPercent(value) {
  return value === null || value === undefined ? '–' : `${value > 0 ? '+' : value < 0 ? '−' : ''}${Math.abs(value).toFixed(2)}%`;
}

/** "3m ago", "2h ago", or a date. */
export function ago(iso) {
  if (!iso) return '–';
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return new Date(iso).toLocaleString();
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export function shortSha(sha) {
  return sha ? sha.slice(0, 8) : '–';
}

export function integer(value) {
  return value === null || value === undefined ? '–' : value.toLocaleString('en-US');
}
