/**
 * Run the tiny-lm pipeline offline: a fresh repository (setup.ts), the
 * scripted agent and reflector of offline-models.ts on a loopback model
 * server, and `strata pipeline` on offline.yaml. About 2 minutes on one
 * core; with --compare, plain research for the same number of trials after.
 *
 *   npx node examples/pipeline/offline.ts [dir] [--compare] [--json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pipelineCommand } from '../../src/cli/commands/pipeline.ts';
import { LoopbackModelServer } from '../../test/helpers/loopback-model.ts';
import { tinyLmModels } from './offline-models.ts';
import { setUpPipelineRepo } from './setup.ts';

/**
 * Set up `dir` and write offline.yaml for a loopback server at `modelUrl`,
 * with trials run by this Node (22+, for train.ts's type stripping).
 */
export function prepareOfflineRepo(dir: string, modelUrl: string): string {
  const repo = setUpPipelineRepo(dir, { offline: true });
  const path = join(repo, 'offline.yaml');
  const text = readFileSync(path, 'utf8').replace('http://127.0.0.1:1/v1', modelUrl).replace('run: "node train.ts"', `run: ${JSON.stringify(`${process.execPath} train.ts`)}`);
  writeFileSync(path, text);
  return repo;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { compare: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } }, allowPositionals: true });
  const server = await LoopbackModelServer.start(tinyLmModels());
  try {
    const repo = prepareOfflineRepo(positionals[0] ?? mkdtempSync(join(tmpdir(), 'tiny-lm-pipeline-')), server.url);
    process.stderr.write(`repository: ${repo}\n`);
    // offline.yaml's run line is committed as written; the trials need this Node, so the changed file is what the studies read.
    process.exitCode = await pipelineCommand({ config: 'offline.yaml', cwd: repo, compare: values.compare, json: values.json });
  } finally {
    await server.close();
  }
}
