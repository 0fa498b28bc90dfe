/**
 * Child-process script of samplingLeak.test.ts (run with `node --expose-gc --import registerTsLoader.mjs`): writes a
 * tiny random model, loads it on the inference engine the CLI would use (onnx-cpu by default) and calls the
 * sampler's `generate` (backbone + transcoder + tokenizer decode) `calls` times, printing one JSON line with the
 * resident set size after a warm-up and every `every` calls, each measured after full garbage collections.
 *
 * Usage: samplingLeakProbe.ts <work dir> <calls> <warm-up calls> <every>
 */
import { createRng, required } from '@bigr/core';
import { classCondition, generate } from '@bigr/sampler';
import { loadBigrModel } from '../bigrModelDir.js';
import { inferenceEngine } from '../engines.js';
import { writeTinyModel } from './tinyModel.js';

const [root, callsArg, warmupArg, everyArg] = process.argv.slice(2);
const calls = Number(callsArg);
const warmup = Number(warmupArg);
const every = Number(everyArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!root || !(calls > warmup && warmup > 0 && every > 0) || !gc) {
  process.stderr.write('usage: node --expose-gc --import registerTsLoader.mjs samplingLeakProbe.ts <dir> <calls> <warm-up> <every>\n');
  process.exit(2);
}
const collectGarbage: () => void = gc;

/** RSS after collecting garbage until the JS heap stops shrinking (bounded), so only retained memory counts. */
async function settledRss(): Promise<{ rss: number; heapUsed: number; external: number; arrayBuffers: number }> {
  for (let i = 0; i < 4; i++) {
    collectGarbage();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

const tiny = await writeTinyModel(root);
const engine = await inferenceEngine();
const model = await loadBigrModel(tiny.modelDir, engine, { diffusionSteps: 2 });
const samples: { calls: number; rss: number; heapUsed: number; external: number; arrayBuffers: number }[] = [];
const started = Date.now();
let checksum = 0;
for (let i = 1; i <= calls; i++) {
  const r = await generate({
    predictor: model.predictor,
    condition: classCondition([i % 3]),
    rng: createRng(i),
    tokenizer: model.tokenizer,
    iterations: 2,
    cfgScale: 2,
  });
  checksum += required(r.codes.data[0], 'first bit') + required(r.images, 'decoded images').data.length;
  if (i === warmup || (i > warmup && (i - warmup) % every === 0)) samples.push({ calls: i, ...(await settledRss()) });
}
process.stdout.write(`${JSON.stringify({ engine: engine.name, calls, warmup, seconds: (Date.now() - started) / 1000, checksum, samples })}\n`);
