import { z } from 'zod';
import { durationSchema } from './duration-schema.ts';

/** A memory size: `8GiB`, `512MiB`, `16G`, or a number of bytes. */
export const memorySizeSchema = z
  .union([z.string().regex(/^\s*\d+(\.\d+)?\s*([KMGT]i?B?|B)?\s*$/i, 'a memory size like 8GiB, 512MiB or 16G'), z.number().int().positive()])
  .describe('a memory size like 8GiB, 512MiB or 16G (a bare number means bytes)');

/** research.acceptance: how a trial earns `keep`. */
export const acceptanceSchema = z.strictObject({
  rule: z
    .enum(['noise-aware', 'strict', 'threshold'])
    .optional()
    .describe('noise-aware (default for new studies): keep only improvements that beat the run-to-run noise; strict: any improvement; threshold: improvements above min_delta'),
  baseline_repeats: z.number().int().min(1).max(50).optional().describe('noise-aware: runs of the unmodified baseline, each with its own STRATA_SEED, before the first candidate is judged; more run only when a decision needs them (default 1)'),
  min_delta: z.number().min(0).optional().describe('smallest improvement that counts, in metric units (default 0)'),
  confidence: z.number().gt(0.5).lt(1).optional().describe('noise-aware: how sure a keep must be that the improvement is real (default 0.95)'),
  confirm_repeats: z.number().int().min(1).max(20).optional().describe('noise-aware: extra runs of the candidate one decision may spend on a close call (default 4)'),
  recheck_every: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('rerun the incumbent after this many candidate decisions to catch a lucky keep, and say in status if it no longer beats its parent (default 10; 0: never)'),
});

/** research.limits: per-trial resource limits for the whole process tree. */
export const limitsSchema = z.strictObject({
  memory: memorySizeSchema.optional().describe('memory for the whole process tree of a trial (cgroup; prlimit address-space limit where cgroups are not available)'),
  processes: z.number().int().min(1).optional().describe('processes and threads a trial may have at once'),
});

/** A variable name, or a glob of them with `*` (`WANDB_*`). */
const envNameSchema = z.string().regex(/^[A-Za-z_*][A-Za-z0-9_*]*$/, 'a variable name, or a glob with * like WANDB_*');

/** research.agent_sandbox: what the command proposer's coding agent may reach beyond its own files. */
export const agentSandboxSchema = z.strictObject({
  network: z.enum(['on', 'off']).optional().describe('on (default): the agent reaches its model over the network; off: only loopback (a model served on this machine is not reachable either)'),
  writable: z
    .array(z.string().min(1))
    .optional()
    .describe("more folders the agent may write (relative to this file, ~/ for HOME), beyond its worktree and its own state (~/.claude, ~/.codex, …)"),
  env_passthrough: z.array(envNameSchema).optional().describe("more secret-looking variables the agent gets, beyond its provider's keys (ANTHROPIC_*, OPENAI_*, …)"),
});

/** Keys of `research:` for results you can trust: evaluation stage, holdout, acceptance, sandbox. */
export const trustKeys = {
  evaluate: z
    .string()
    .min(1)
    .optional()
    .describe('run after `run`, from a pristine checkout of the study\'s base commit, reading $STRATA_ARTIFACTS; the metric is read only from its output'),
  evaluate_budget: durationSchema.optional().describe('wall clock of the evaluate stage (default: the trial budget)'),
  evaluate_code: z
    .enum(['pristine', 'candidate'])
    .optional()
    .describe('pristine (default): evaluate runs on the base commit\'s files and sees the candidate only through its artifacts; candidate: on the candidate\'s own committed files'),
  holdout: z.string().min(1).optional().describe('run on each new best and at the end, like evaluate; its result is stored but never shown to proposers'),
  holdout_data: z
    .array(z.string().min(1))
    .optional()
    .describe('files or folders only the holdout stage may read (relative to this file, or absolute); hidden from every other stage. Must not be tracked by git'),
  acceptance: acceptanceSchema.optional().describe('how a trial earns keep'),
  network: z.enum(['on', 'off']).optional().describe('off: trials run in a network namespace with only loopback (default on)'),
  limits: limitsSchema.optional().describe('per-trial limits for the whole process tree'),
  env_passthrough: z
    .array(envNameSchema)
    .optional()
    .describe('secret-looking variables (names with PASS, TOKEN, SECRET, KEY, CREDENTIAL, …) trials still get from the environment, e.g. [WANDB_API_KEY]; research.env values always pass'),
  sandbox_readable: z
    .array(z.string().min(1))
    .optional()
    .describe('folders trials may read that the sandbox makes private (/tmp, /var/tmp, /run): relative to this file, or absolute; ~/ for HOME'),
  sandbox_writable: z
    .array(z.string().min(1))
    .optional()
    .describe('folders trials may write besides their worktree, artifacts, HOME and TMPDIR (a shared model cache, a checkpoint disk); everything else is read-only to them'),
  agent_sandbox: agentSandboxSchema.optional().describe('proposer: command — what the coding agent may reach beyond its worktree and its own files'),
};
