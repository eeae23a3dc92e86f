/**
 * The loopback model in its own process, so a benchmark's CPU figures are the
 * engine's alone. Prints `url <base url>` and serves until killed.
 *
 *   npx node bench/loopback-process.ts --latency 50
 */
import { parseArgs } from 'node:util';
import { LoopbackModelServer } from '../test/helpers/loopback-model.ts';

const { values } = parseArgs({ options: { latency: { type: 'string', default: '0' } } });
const server = await LoopbackModelServer.start(() => ({ text: 'billing', usage: { input: 40, output: 1 } }), { latencyMs: Number(values.latency) });
process.stdout.write(`url ${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
