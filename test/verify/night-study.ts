/**
 * A study whose truth is known, for verify and finalize tests with real
 * processes: the trainer's loss is 2 − the effects of named flags + seeded
 * noise in ±0.01, and a command proposer turns the flags on one per trial,
 * in order, each with its own description. A flag's effect of 0 is a no-op;
 * `lucky` plants a first run 0.05 better than the truth (so the strict rule
 * keeps a no-op).
 */
import { makeRepo } from '../helpers/study-repo.ts';

export interface NightChange {
  flag: string;
  effect: number;
  description?: string;
}

/** The default night: A −0.3, a no-op planted lucky on its one run, B −0.2. */
export const NIGHT_CHANGES: NightChange[] = [
  { flag: 'A', effect: 0.3 },
  { flag: 'NOOP', effect: 0 },
  { flag: 'B', effect: 0.2 },
];

/**
 * A repository holding the trainer, the proposer and strata.yaml (`name: night`).
 *
 * @example
 * const dir = nightStudy({ lucky: 2 });
 * await strataProcess(dir, ['research']);
 */
export function nightStudy(
  options: {
    changes?: NightChange[];
    lucky?: number | null;
    extraConfig?: string;
    /** Code the trainer runs before it measures (a sleep). */
    trainerPrelude?: string;
    /** A JS expression every effect is multiplied by (default 1): how a run's setting (budget, env) can change the gains. */
    effectScale?: string;
  } = {},
): string {
  const changes = options.changes ?? NIGHT_CHANGES;
  // Flags far apart, so each change's diff has its own context and its inverse applies without the others.
  const flags = changes.map((change) => `const ${change.flag} = 0;`).join('\n//\n//\n//\n//\n//\n//\n');
  const gains = changes.map((change) => ` + ${change.effect} * ${change.flag}`).join('');
  const lucky = options.lucky === undefined ? 2 : options.lucky;
  const trainer = `${flags}
${options.trainerPrelude ?? ''}
const seq = Number(process.env.STRATA_TRIAL);
const seed = Number(process.env.STRATA_SEED ?? 0);
// Uniform noise in ±0.01 from the seed${lucky === null ? '' : `; trial #${lucky} is planted lucky`}.
const noise = ${lucky === null ? '' : `seq === ${lucky} ? -0.05 : `}((Math.imul(seed ^ 0x9e3779b9, 2654435761) >>> 0) % 2001) / 100000 - 0.01;
await new Promise((resolve) => setTimeout(resolve, 30));
const scale = ${options.effectScale ?? '1'};
console.log('METRIC loss=' + (2 - scale * (0${gains}) + noise));
`;
  const proposer = `import { readFileSync, writeFileSync } from 'node:fs';
const changes = ${JSON.stringify(changes.map((change) => ({ flag: change.flag, description: change.description ?? `turn on ${change.flag}` })))};
const change = changes[Number(process.env.STRATA_TRIAL) - 1];
if (change) writeFileSync('train.mjs', readFileSync('train.mjs', 'utf8').replace('const ' + change.flag + ' = 0;', 'const ' + change.flag + ' = 1;'));
writeFileSync(process.env.STRATA_DESCRIPTION_FILE ?? 'unused', change ? change.description : 'nothing left');
`;
  return makeRepo({
    'train.mjs': trainer,
    'propose.mjs': proposer,
    'strata.yaml': `name: night
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 10s
  metric: {name: loss, goal: minimize}
  proposer: command
  agent_command: ${JSON.stringify(`${process.execPath} propose.mjs`)}
  acceptance: {rule: strict}
  max_trials: ${changes.length + 1}
${options.extraConfig ?? ''}`,
  });
}
