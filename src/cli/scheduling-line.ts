import type { SchedulingSummary } from '../research/duty-cycle.ts';

/**
 * One line about slots and how busy they were, e.g.
 * `4 slots (local) · duty cycle 96.8% (1h02m busy of 1h04m)`; empty before any session ran.
 *
 * @example
 * schedulingLine(summary.scheduling);
 */
export function schedulingLine(scheduling: SchedulingSummary | undefined): string {
  if (!scheduling || scheduling.slots === null) return '';
  const slots = `${scheduling.slots} slot${scheduling.slots === 1 ? '' : 's'} (${scheduling.executor ?? 'local'})`;
  if (scheduling.duty_cycle === null) return slots;
  return `${slots} · duty cycle ${(scheduling.duty_cycle * 100).toFixed(1)}% of slot time running trials`;
}
