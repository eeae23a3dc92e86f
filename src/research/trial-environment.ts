import type { ParamValues } from '../core/search-space.ts';

/** Variables that look like credentials never reach a trial unless `research.env` passes them explicitly. */
const DENY = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|AUTH)(_|$)|^AWS_|^AZURE_|^GOOGLE_APPLICATION|^OPENAI|^ANTHROPIC|^HF_TOKEN$/i;

export interface TrialEnvironmentInput {
  base: NodeJS.ProcessEnv;
  extra: Record<string, string>;
  study: string;
  seq: number;
  trialId: number;
  seed: number;
  budgetMs: number;
  params: ParamValues | null;
}

/**
 * The complete environment of a trial process: the orchestrator's environment
 * without anything that looks like a credential, then `research.env`, then the
 * `STRATA_*` variables (which win).
 */
export function trialEnvironment(input: TrialEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.base)) {
    if (value === undefined || DENY.test(name) || name.startsWith('STRATA_')) continue;
    env[name] = value;
  }
  Object.assign(env, input.extra);
  env.STRATA_STUDY = input.study;
  env.STRATA_TRIAL = String(input.seq);
  env.STRATA_TRIAL_ID = String(input.trialId);
  env.STRATA_SEED = String(input.seed);
  env.STRATA_BUDGET_S = String(input.budgetMs / 1000);
  for (const [name, value] of Object.entries(input.params ?? {})) env[`STRATA_PARAM_${name.toUpperCase()}`] = String(value);
  return env;
}
