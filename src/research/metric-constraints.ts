import type { MetricConstraint } from '../core/config/research-config.ts';

/**
 * The constraints (`research.constraints`) a trial's metrics break, each as a
 * sentence for the trial's reason; empty when all hold. A constrained metric
 * the trial did not report counts as broken: a limit that cannot be checked
 * cannot be trusted.
 *
 * @example
 * brokenConstraints({ val_bpb: 1.02, peak_vram_mb: 91000 }, [{ metric: 'peak_vram_mb', max: 80000 }]);
 * // ['peak_vram_mb = 91000 is above the max of 80000']
 */
export function brokenConstraints(metrics: Readonly<Record<string, number>>, constraints: readonly MetricConstraint[]): string[] {
  const broken: string[] = [];
  for (const constraint of constraints) {
    const value = metrics[constraint.metric];
    if (value === undefined || !Number.isFinite(value)) {
      broken.push(`${constraint.metric} was not reported, so its constraint cannot be checked`);
    } else if (constraint.max !== undefined && value > constraint.max) {
      broken.push(`${constraint.metric} = ${value} is above the max of ${constraint.max}`);
    } else if (constraint.min !== undefined && value < constraint.min) {
      broken.push(`${constraint.metric} = ${value} is below the min of ${constraint.min}`);
    }
  }
  return broken;
}

/** The reason recorded on a trial that broke constraints. */
export function constraintReason(broken: readonly string[]): string {
  return `broke research.constraints: ${broken.join('; ')}`;
}
