import { dirname, isAbsolute } from 'node:path';
import { evolvePauseOnProblems, normalizeOversight } from '../core/config/oversight-config.ts';
import type { RawOversight } from '../core/config/oversight-schema.ts';
import { validateConfig, type StudyConfig } from '../core/config/parse-config.ts';
import type { ResearchEvaluatorSection, StageSection } from '../core/config/pipeline-schema.ts';
import type { RawConfig } from '../core/config/schema.ts';
import { STUDY_NAME_MAX_LENGTH } from '../core/config/study-name.ts';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { EVALUATION_HASH_LENGTH, evaluationStudyName } from './evaluation-study-name.ts';
import { findReferences, mapStrings } from './stage-references.ts';

/** The study name `strata pipeline --compare` gives the plain research run; no stage may take it. */
export const PLAIN_STAGE = 'plain';

/** One variant a research evaluation runs on. */
export interface ResearchExample {
  id: string;
  seed?: number;
  env: Record<string, string>;
}

/** `evaluator: {kind: research}` after normalization. */
export interface ResearchEvaluatorConfig {
  trials: number;
  /** Per trial, as written; undefined = research.budget. */
  budget?: string | number;
  examples: ResearchExample[];
  /** The component the agent follows as its program; undefined = research.program. */
  programComponent?: string;
  proposer: 'agent' | 'command';
  acceptance: NonNullable<ResearchEvaluatorSection['acceptance']>;
}

/** One stage, as written: references are resolved only when it starts. */
export interface PipelineStage {
  name: string;
  index: number;
  /** Its study: `<pipeline>/<stage>`. */
  study: string;
  kind: 'research' | 'evolve';
  /** research: the keys replacing the top-level research keys; evolve: the evolve section without `evaluator`. */
  section: Record<string, unknown>;
  evaluator?: ResearchEvaluatorConfig;
  /** Component names of an evolve stage (its seed keys); empty for research. */
  components: string[];
  start?: string;
  handoff?: { from: string; files: Record<string, string> };
  /** The stage's own `oversight:` (its keys replace the top-level section's). */
  oversight?: RawOversight;
}

/** A validated pipeline file. */
export interface PipelineConfig {
  name: string;
  /** Absolute path of the pipeline file; research and evaluation studies use it as their config path. */
  configPath: string;
  /** The file's top level: `research:` is the base of every research stage and evaluation, `llm:` the agent's model. */
  config: StudyConfig;
  stages: PipelineStage[];
}

/** How a reference's value reaches a config: text in place, or a file path for keys that name a file. */
export type ResolveString = (value: string, path: string) => string;

/** Keys whose value is a file: a reference filling the whole value becomes a file holding the text. */
export function isFileKey(path: string): boolean {
  return /^research\.program$|^evolve\.seed\.[^.]+$|^evolve\.reflection\.prompt$/.test(path);
}

/**
 * Check a pipeline file beyond its schema: stage kinds, unique names,
 * references to earlier stages and existing components, hand-offs, the
 * research evaluator, and every stage's config with the top level merged in
 * (references stand in as placeholders). Every problem is reported at once.
 *
 * @example
 * const { path, config } = loadConfig('pipeline.yaml', cwd);
 * const pipeline = normalizePipeline(config, path);
 */
export function normalizePipeline(config: StudyConfig, configPath: string): PipelineConfig {
  const raw = config.raw;
  const sections = raw.pipeline;
  if (!sections) throw new ConfigError([{ path: 'pipeline', message: 'missing: `strata pipeline` needs a `pipeline:` list of stages' }], configPath);
  const issues: ConfigIssue[] = [];
  if (raw.evolve) issues.push({ path: 'evolve', message: 'a pipeline file keeps its evolve sections in its stages: move it under a `- stage:` entry' });
  const stages: PipelineStage[] = [];
  const seen = new Set<string>();
  sections.forEach((section, index) => {
    const at = `pipeline.${index}`;
    if (seen.has(section.stage)) issues.push({ path: `${at}.stage`, message: `"${section.stage}" names two stages; each stage needs its own name` });
    if (section.stage === PLAIN_STAGE) issues.push({ path: `${at}.stage`, message: `"${PLAIN_STAGE}" is the study of \`strata pipeline --compare\`; choose another name` });
    seen.add(section.stage);
    const stage = normalizeStage(section, index, config.name, raw, issues);
    if (stage) stages.push(stage);
  });
  for (const stage of stages) checkReferences(stage, stages, issues);
  if (issues.length === 0) {
    // Build every stage's config with placeholders for references: bad keys surface now, not hours in.
    const placeholder: ResolveString = (value, path) => (findReferences(value).length === 0 ? value : isFileKey(path) ? 'pipeline-reference.txt' : value.replace(/\$\{[^}]*\}/g, '0'));
    for (const stage of stages) {
      collect(issues, `pipeline.${stage.index}`, () => (stage.kind === 'research' ? researchStageConfig({ name: config.name, configPath, config, stages }, stage, placeholder) : evolveStageConfig({ name: config.name, configPath, config, stages }, stage, placeholder)));
      if (stage.evaluator) {
        for (const example of stage.evaluator.examples) {
          collect(issues, `pipeline.${stage.index}.evolve.evaluator`, () => evaluationConfig({ name: config.name, configPath, config, stages }, stage, { name: `${stage.study}/check`, example, programPath: '/pipeline-reference.txt' }));
        }
      }
    }
  }
  if (issues.length > 0) throw new ConfigError(dedupe(issues), configPath);
  const notes = stages.flatMap((stage) =>
    stageOversight({ config }, stage).left.map((problem) => `stage ${stage.name} does not watch the top-level oversight.pause_on.${problem.condition}: ${problem.reason} (its other conditions and notify apply)`),
  );
  if (notes.length > 0) config.notes = [...(config.notes ?? []), ...notes];
  return { name: config.name, configPath, config, stages };
}

/**
 * The `oversight:` a stage's study runs under: the top-level section, with
 * the stage's own `pause_on` and `notify` in place of the top-level ones. An
 * evolve stage leaves out the inherited conditions it cannot watch
 * (diff_lines; holdout_gap without a test split), returned in `left` for a
 * note at start; written on the stage itself they are config errors.
 *
 * @example
 * stageOversight(pipeline, stage).oversight?.pause_on; // { new_best: true }
 */
export function stageOversight(pipeline: Pick<PipelineConfig, 'config'>, stage: PipelineStage): { oversight?: RawOversight; left: ReturnType<typeof evolvePauseOnProblems> } {
  const top = pipeline.config.raw.oversight;
  const merged: RawOversight | undefined = top || stage.oversight ? { ...top, ...stage.oversight } : undefined;
  if (!merged || stage.kind !== 'evolve' || stage.oversight?.pause_on !== undefined || !merged.pause_on) return { ...(merged ? { oversight: merged } : {}), left: [] };
  const hasTest = (stage.section.data as { test?: unknown } | undefined)?.test !== undefined;
  const left = evolvePauseOnProblems(normalizeOversight(merged).pauseOn, hasTest);
  const pause = { ...merged.pause_on };
  for (const problem of left) delete pause[problem.condition];
  return { oversight: { ...merged, pause_on: pause }, left };
}

function normalizeStage(section: StageSection, index: number, pipeline: string, raw: RawConfig, issues: ConfigIssue[]): PipelineStage | undefined {
  const at = `pipeline.${index}`;
  if (Boolean(section.research) === Boolean(section.evolve)) {
    issues.push({ path: at, message: 'a stage is either `research:` or `evolve:`; give exactly one' });
    return undefined;
  }
  const common = {
    name: section.stage,
    index,
    study: `${pipeline}/${section.stage}`,
    ...(section.start !== undefined ? { start: section.start } : {}),
    ...(section.oversight !== undefined ? { oversight: section.oversight } : {}),
  };
  let stage: PipelineStage;
  if (section.research) {
    if (!raw.research) issues.push({ path: 'research', message: 'missing: research stages take their keys from a top-level `research:` section (editable, run, metric, …)' });
    stage = { ...common, kind: 'research', section: section.research as Record<string, unknown>, components: [] };
  } else {
    const { evaluator, ...evolve } = section.evolve!;
    const components = Object.keys(evolve.seed);
    stage = { ...common, kind: 'evolve', section: evolve as Record<string, unknown>, components };
    if (evaluator) {
      if (evolve.data || evolve.metric) issues.push({ path: `${at}.evolve.evaluator`, message: 'a research evaluator replaces data and metric: remove them, or remove the evaluator' });
      if (!raw.research) issues.push({ path: 'research', message: 'missing: the research evaluator runs studies from a top-level `research:` section (editable, run, metric, …)' });
      stage.evaluator = normalizeEvaluator(evaluator, components, raw, `${at}.evolve.evaluator`, issues, common.study);
    } else if (!evolve.data || !evolve.metric) {
      issues.push({ path: `${at}.evolve`, message: 'give `data:` and `metric:`, or `evaluator: {kind: research, …}` to score candidates by short research studies' });
    }
  }
  if (section.handoff) {
    // An empty `from` means the previous stage; checkReferences fills it in.
    stage.handoff = { from: section.handoff.from ?? '', files: section.handoff.files };
    for (const [component, file] of Object.entries(section.handoff.files)) {
      if (isAbsolute(file) || file.split('/').includes('..')) issues.push({ path: `${at}.handoff.files.${component}`, message: `a file inside the project, relative to this config, got ${JSON.stringify(file)}` });
    }
  }
  return stage;
}

function normalizeEvaluator(section: ResearchEvaluatorSection, components: string[], raw: RawConfig, at: string, issues: ConfigIssue[], stageStudy: string): ResearchEvaluatorConfig {
  const examples = section.examples.map((example, index): ResearchExample => ({
    id: example.id !== undefined ? String(example.id) : example.seed !== undefined && example.env === undefined ? `seed-${example.seed}` : `example-${index}`,
    ...(example.seed !== undefined ? { seed: example.seed } : {}),
    env: example.env ?? {},
  }));
  const ids = new Set<string>();
  examples.forEach((example, index) => {
    if (ids.has(example.id)) issues.push({ path: `${at}.examples.${index}`, message: `example id "${example.id}" is taken; give each example its own id:` });
    ids.add(example.id);
    // Each evaluation is a study of its own, its name longer than the stage's: too long, every evaluation would fail hours in.
    const longest = evaluationStudyName(stageStudy, '0'.repeat(EVALUATION_HASH_LENGTH), example.id).length;
    if (longest > STUDY_NAME_MAX_LENGTH) {
      const shown = example.id.length > 20 ? `${example.id.slice(0, 20)}…` : example.id;
      issues.push({
        path: `${at}.examples.${index}`,
        message: `the research evaluations of example "${shown}" are studies named <pipeline>/<stage>/<${EVALUATION_HASH_LENGTH}-character candidate hash>-<example id>, ${longest} characters here; at most ${STUDY_NAME_MAX_LENGTH}: shorten the pipeline name, the stage name or the example id`,
      });
    }
  });
  let programComponent: string | undefined;
  if (section.program !== undefined) {
    if (!components.includes(section.program)) issues.push({ path: `${at}.program`, message: `"${section.program}" is not a component of the seed (${components.join(', ')})` });
    programComponent = section.program;
  } else if (components.includes('program')) programComponent = 'program';
  const topProposer = raw.research?.proposer;
  const proposer = section.proposer ?? (topProposer === 'agent' || topProposer === 'command' ? topProposer : 'agent');
  return {
    trials: section.trials,
    ...(section.budget !== undefined ? { budget: section.budget } : {}),
    examples,
    ...(programComponent !== undefined ? { programComponent } : {}),
    proposer,
    acceptance: section.acceptance ?? { rule: 'strict' },
  };
}

/** Each reference names an earlier stage and something it has; a hand-off reads an earlier evolve stage. */
function checkReferences(stage: PipelineStage, stages: PipelineStage[], issues: ConfigIssue[]): void {
  const at = `pipeline.${stage.index}`;
  const earlier = (name: string) => stages.find((other) => other.name === name && other.index < stage.index);
  const values: [string, unknown][] = [[stage.kind, stage.section], ['start', stage.start ?? '']];
  for (const [root, value] of values) {
    mapStrings(value, root, (text, path) => {
      for (const reference of findReferences(text)) {
        const target = earlier(reference.stage);
        const where = `${at}.${path}`;
        if (!target) {
          const later = stages.some((other) => other.name === reference.stage);
          issues.push({ path: where, message: `${reference.text}: ${later ? `stage "${reference.stage}" runs later; a stage can use only earlier stages` : `there is no stage "${reference.stage}"`}` });
          continue;
        }
        const known = target.kind === 'research' ? ['commit', 'metric'] : ['commit', 'score', ...target.components];
        if (!known.includes(reference.attribute)) {
          issues.push({ path: where, message: `${reference.text}: ${target.kind} stage "${target.name}" has no "${reference.attribute}"; use one of ${known.join(', ')}` });
        }
        if (root === 'start' && reference.attribute !== 'commit') issues.push({ path: where, message: `${reference.text}: start takes a commit, e.g. \${${target.name}.best.commit}` });
      }
      return text;
    });
  }
  if (stage.handoff) {
    const fromName = stage.handoff.from || stages[stage.index - 1]?.name;
    const from = fromName === undefined ? undefined : earlier(fromName);
    if (!from) {
      issues.push({ path: `${at}.handoff.from`, message: fromName ? `there is no earlier stage "${fromName}"` : 'the first stage has no earlier stage to hand off from' });
      return;
    }
    stage.handoff.from = from.name;
    if (from.kind !== 'evolve') {
      issues.push({ path: `${at}.handoff.from`, message: `"${from.name}" is a research stage: hand-offs write evolved components; start from its commit instead (start: \${${from.name}.best.commit})` });
      return;
    }
    for (const component of Object.keys(stage.handoff.files)) {
      if (!from.components.includes(component)) issues.push({ path: `${at}.handoff.files.${component}`, message: `"${component}" is not a component of stage "${from.name}" (${from.components.join(', ')})` });
    }
  }
}

/**
 * The config of a research stage's study: the top-level research keys with
 * the stage's keys in their place, references resolved by `resolve`.
 */
export function researchStageConfig(pipeline: PipelineConfig, stage: PipelineStage, resolve: ResolveString): StudyConfig {
  const overrides = mapStrings(stage.section, 'research', resolve) as Record<string, unknown>;
  const { oversight } = stageOversight(pipeline, stage);
  return validateConfig(
    { name: stage.study, research: { ...pipeline.config.raw.research, ...overrides }, ...(pipeline.config.raw.llm ? { llm: pipeline.config.raw.llm } : {}), ...(oversight ? { oversight } : {}) },
    pipeline.configPath,
  );
}

/**
 * The config of an evolve stage: its evolve section with references
 * resolved. A research evaluator stands in for data and metric, so they get
 * placeholders here only to reuse the evolve section's normalization.
 */
export function evolveStageConfig(pipeline: PipelineConfig, stage: PipelineStage, resolve: ResolveString): StudyConfig {
  const evolve = mapStrings(stage.section, 'evolve', resolve) as Record<string, unknown>;
  const placeholders = stage.evaluator ? { data: { train: '-', val: '-' }, metric: { kind: 'command', command: '-' } } : {};
  const { oversight } = stageOversight(pipeline, stage);
  return validateConfig({ name: stage.study, evolve: { ...evolve, ...placeholders }, ...(pipeline.config.raw.llm ? { llm: pipeline.config.raw.llm } : {}), ...(oversight ? { oversight } : {}) }, pipeline.configPath);
}

/**
 * The config of one research evaluation: the top-level research section as
 * a short study (the evaluator's trials and budget, strict acceptance unless
 * told otherwise, no fidelity or holdout), on the example's seed and
 * environment, following the candidate's program.
 */
export function evaluationConfig(
  pipeline: PipelineConfig,
  stage: PipelineStage,
  options: { name: string; example: ResearchExample; programPath?: string; maxUsd?: number },
): StudyConfig {
  const evaluator = stage.evaluator!;
  const { fidelity: _fidelity, holdout: _holdout, holdout_data: _holdoutData, ...base } = pipeline.config.raw.research ?? ({} as NonNullable<RawConfig['research']>);
  const research = {
    ...base,
    ...(evaluator.budget !== undefined ? { budget: evaluator.budget } : {}),
    max_trials: evaluator.trials,
    proposer: evaluator.proposer,
    acceptance: evaluator.acceptance,
    env: { ...base.env, ...options.example.env },
    ...(options.example.seed !== undefined ? { search: { ...base.search, seed: options.example.seed } } : {}),
    ...(options.programPath !== undefined ? { program: options.programPath } : {}),
  };
  const llm = pipeline.config.raw.llm;
  const maxUsd = options.maxUsd === undefined ? llm?.max_usd : Math.min(options.maxUsd, llm?.max_usd || Number.POSITIVE_INFINITY);
  return validateConfig({ name: options.name, research, ...(llm ? { llm: { ...llm, ...(maxUsd !== undefined ? { max_usd: maxUsd } : {}) } } : {}) }, pipeline.configPath);
}

/** Run a config builder, turning its ConfigError into issues under `prefix`. */
function collect(issues: ConfigIssue[], prefix: string, build: () => unknown): void {
  try {
    build();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) issues.push({ path: issue.path === 'llm' ? 'llm' : `${prefix}.${issue.path}`, message: issue.message });
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\n${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The folder of the pipeline file: paths in it are relative to this. */
export function pipelineDir(pipeline: PipelineConfig): string {
  return dirname(pipeline.configPath);
}
