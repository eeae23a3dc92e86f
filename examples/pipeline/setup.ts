/**
 * Make a fresh git repository holding tiny-lm and the pipeline files, so a
 * pipeline's branches (strata/<pipeline>/…) and ledger live there and not in
 * your Strata checkout.
 *
 *   npx node examples/pipeline/setup.ts /tmp/tiny-lm-pipeline            # pipeline.yaml (a real model)
 *   npx node examples/pipeline/setup.ts /tmp/tiny-lm-offline --offline   # offline.yaml too
 *
 * The seed program (program.md) is Strata's built-in research program, the
 * one plain research uses when `research.program` is not set: the pipeline
 * starts from what you would get without it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TINY_LM = resolve(HERE, '../tiny-lm');
const TEMPLATE = resolve(HERE, '../../templates/program.md');

/** Copy tiny-lm, program.md and the pipeline files into `dir` (new or empty) and commit them. */
export function setUpPipelineRepo(dir: string, options: { offline?: boolean } = {}): string {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty: give a new folder`);
  mkdirSync(target, { recursive: true });
  for (const file of ['train.ts', 'prepare.ts', 'data/corpus.txt']) cpSync(join(TINY_LM, file), join(target, file));
  cpSync(TEMPLATE, join(target, 'program.md'));
  cpSync(join(HERE, 'pipeline.yaml'), join(target, 'pipeline.yaml'));
  if (options.offline) cpSync(join(HERE, 'offline.yaml'), join(target, 'offline.yaml'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: target, stdio: ['ignore', 'ignore', 'inherit'] });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=strata-example', '-c', 'user.email=strata-example@localhost', 'commit', '-q', '-m', 'tiny-lm and a Strata pipeline');
  return target;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { offline: { type: 'boolean', default: false } }, allowPositionals: true });
  const dir = setUpPipelineRepo(positionals[0] ?? '/tmp/tiny-lm-pipeline', { offline: values.offline });
  const strata = resolve(HERE, '../../bin/strata.js');
  process.stdout.write(`a repository with tiny-lm and the pipeline is ready at ${dir}\nrun it (Node 22, a model key in the environment):\n  cd ${dir} && node ${strata} pipeline --config pipeline.yaml --compare\n`);
}
