import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@bigr/core';
import { generate } from '@bigr/sampler';
import { writeTinyModel } from './tinyModel.js';
import { loadBigrModel } from '../bigrModelDir.js';
import { inferenceEngine } from '../engines.js';

it('times', async () => {
  let t = Date.now();
  const root = await mkdtemp(join(tmpdir(), 'bigr-tiny-'));
  const m = await writeTinyModel(root);
  console.log('write', Date.now() - t); t = Date.now();
  const engine = await inferenceEngine();
  console.log('engine', engine.name, Date.now() - t); t = Date.now();
  const model = await loadBigrModel(m.modelDir, engine, { diffusionSteps: 4 });
  console.log('load', Date.now() - t); t = Date.now();
  const r = await generate({ predictor: model.predictor, condition: { kind: 'class', labels: new Int32Array(8) }, rng: createRng(0), tokenizer: model.tokenizer, iterations: 4 });
  console.log('gen', Date.now() - t, r.images!.shape);
});
