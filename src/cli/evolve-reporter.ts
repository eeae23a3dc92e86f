import type { EvolveProgress } from '../evolve/types.ts';
import { terminalLine } from '../core/terminal-text.ts';
import { palette } from './format.ts';

/**
 * Terminal lines for a running evolve study: the budget up front, one line
 * per iteration (outcome, best validation mean, front size, budget used), the
 * stop reason. Plain lines, safe without a TTY.
 */
export function createEvolveReporter(out: NodeJS.WritableStream, info: { study: string; metricCalls: number | null; usd: number | null }): (progress: EvolveProgress) => void {
  const colors = palette(out);
  const print = (line: string) => out.write(`${line}\n`);
  const calls = (used: number) => (info.metricCalls === null ? `${used} calls` : `${used}/${info.metricCalls} calls`);
  const money = (spent: number) => (info.usd === null ? `$${spent.toFixed(4)}` : `$${spent.toFixed(4)}/$${info.usd}`);
  return (progress) => {
    switch (progress.kind) {
      case 'started': {
        print(colors.bold(`strata evolve · ${info.study}`) + colors.dim(`  (${progress.resumed ? 'resumed' : 'new study'})`) + `  train ${progress.trainSize} · val ${progress.valSize}`);
        if (progress.proposals) print(`  the metric-call budget buys ${progress.proposals.min}–${progress.proposals.max} proposals (all accepted – none accepted)`);
        for (const warning of progress.warnings) print(colors.yellow(`  warning: ${terminalLine(warning)}`));
        break;
      }
      case 'seed_evaluated':
        print(`  seed: val mean ${progress.valMean.toFixed(3)}`);
        break;
      case 'iteration': {
        const outcome = progress.outcome.includes('accepted') ? colors.green(progress.outcome) : progress.outcome === 'reflection_failed' ? colors.yellow(progress.outcome) : colors.dim(progress.outcome);
        const lineage = progress.child !== null ? ` #${progress.child} ← #${progress.parent}` : progress.parent !== null ? ` from #${progress.parent}` : '';
        print(
          `  it ${String(progress.iteration).padStart(3)}  ${outcome}${lineage}  best ${progress.bestValMean.toFixed(3)} (#${progress.bestIdx})  front ${progress.frontSize}  pool ${progress.poolSize}  ${calls(progress.metricCalls)}  ${money(progress.usd)}`,
        );
        // The detail quotes the reflector's reply: model output, printed without control sequences.
        if (progress.outcome !== 'accepted' && progress.outcome !== 'skipped_perfect') print(colors.dim(`        ${terminalLine(progress.detail).slice(0, 200)}`));
        break;
      }
      case 'stopped':
        print(`stopped: ${progress.reason} — ${terminalLine(progress.detail)}`);
        break;
    }
  };
}
