import { z } from 'zod';
import { durationSchema } from './duration-schema.ts';

/** Options passed to `sbatch` for every trial of a `kind: slurm` study. */
export const slurmSchema = z.strictObject({
  partition: z.string().min(1).optional().describe('sbatch --partition'),
  account: z.string().min(1).optional().describe('sbatch --account'),
  qos: z.string().min(1).optional().describe('sbatch --qos'),
  gpus_per_trial: z.number().int().min(0).default(1).describe('GPUs per trial, requested as --gres=gpu:N (0: none)'),
  gpu_type: z.string().regex(/^[\w.-]+$/).optional().describe('GPU type for --gres=gpu:<type>:N, e.g. a100'),
  cpus_per_task: z.number().int().min(1).optional().describe('sbatch --cpus-per-task'),
  mem: z.string().regex(/^\d+[KMGT]?$/, 'a SLURM memory size like 16G').optional().describe('sbatch --mem'),
  time_margin: durationSchema.optional().describe('added to budget + grace for sbatch --time (default 2m); the exact budget is enforced inside the job'),
  poll_interval: durationSchema.optional().describe('how often squeue is asked about running jobs (default 5s)'),
  extra_args: z.array(z.string().min(1)).default([]).describe('more sbatch arguments, one per item, e.g. ["--constraint=h100"]'),
});

/** Where and how many trials run at once. */
export const executorSchema = z.strictObject({
  kind: z.enum(['local', 'slurm']).default('local').describe('local processes, or SLURM jobs submitted with sbatch'),
  slots: z.number().int().min(1).optional().describe('trials running at once (default 1; with gpus, one per GPU)'),
  gpus: z
    .array(z.union([z.number().int().min(0), z.string().regex(/^[\w:-]+(,[\w:-]+)*$/, 'a device id like 0, or several like "0,1"')]))
    .min(1)
    .optional()
    .describe('local: one slot per entry; each trial sees only its device(s) through CUDA_VISIBLE_DEVICES and HIP_VISIBLE_DEVICES'),
  lookahead: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('proposals prepared ahead of a free slot, so a slot never waits for the proposer (default 1 with several slots, 0 with one)'),
  speculate: z
    .boolean()
    .optional()
    .describe(
      'prepare the next proposal while trials run, as if the running one will be discarded; a keep sends it back to the proposer on the new best (default: true on one slot without lookahead for the agent and command proposers, false for search and with several slots; false gives the serial loop on one slot)',
    ),
  concurrent_proposals: z.number().int().min(1).optional().describe('proposals generated at the same time (default: slots; 1 for the search proposer)'),
  shared_dir: z
    .string()
    .min(1)
    .optional()
    .describe('slurm: a folder visible at the same path on the submit host and the nodes; trial worktrees, logs and job scripts go there'),
  slurm: slurmSchema.optional(),
});

/** Multi-fidelity promotion (successive halving): screen every candidate short, rerun the best at full budget. */
export const fidelitySchema = z.strictObject({
  screen_budget: durationSchema.describe('wall clock of the screening run every new candidate gets first'),
  promote_top: z.number().gt(0).max(1).describe('fraction of screened candidates rerun at the full budget, e.g. 0.25'),
  budget: durationSchema.optional().describe('the full budget (equal to research.budget when given); only full-budget results can be kept'),
});
