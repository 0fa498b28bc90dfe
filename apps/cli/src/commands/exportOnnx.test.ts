import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuTensor, createRng, getOrThrow, resolveEngine, type GraphDefinition, type NamedTensors, required } from '@bigr/core';
import { loadOrt } from '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { backboneGraph, extractBackboneParameters, representationGraph } from '@bigr/backbone';
import { CategoricalSampler, conditionGraph, splitSamplerParameters, stepGraph } from '@bigr/transcoder';
import { relativeMaxError } from '@bigr/testing';
import { decoderGraph, encoderGraph, loadBaeParameters } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { perturbModelWeights } from '../testing/evalFixtures.js';
import { readBigrModel } from '../bigrModelDir.js';
import { BigrPipeline, transcoderConfigOf } from '@bigr/pipeline';
import { readTokenizerModel } from '../tokenizerModelDir.js';
import type { ManifestGraph } from './exportOnnx.js';

let root: string;
let tiny: TinyModel;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-onnx-'));
  tiny = await writeTinyModel(join(root, 'm'));
  await perturbModelWeights(tiny.modelDir, 0.05);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bigr export-onnx', () => {
  it('writes six ONNX graphs that load in onnxruntime and reproduce the tfjs engine, plus a manifest of names and shapes', async () => {
    const out = join(root, 'onnx');
    const run = await runCli(['--json', 'export-onnx', '--model', tiny.modelDir, '--out', out, '--layer', '0']);
    expect(run.stderr).not.toMatch(/bigr:/);
    expect(run.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      format: string;
      graphs: Record<string, ManifestGraph>;
      model: { nullClass: number; tokens: number; bitsPerToken: number; representationLayer: number };
    };
    expect(manifest.format).toBe('bigr-onnx-export');
    expect(Object.keys(manifest.graphs).sort()).toEqual([
      'backbone',
      'representation',
      'tokenizerDecoder',
      'tokenizerEncoder',
      'transcoderCondition',
      'transcoderStep',
    ]);
    expect(manifest.model).toMatchObject({ nullClass: 3, tokens: 16, bitsPerToken: 12, representationLayer: 0 });

    // Reference: the same graph definitions compiled on tfjs (an independent implementation of every op).
    const tfjs = await resolveEngine({ purpose: 'inference', device: 'tfjs-cpu' });
    const { config, weights } = await readBigrModel(tiny.modelDir);
    const tok = await readTokenizerModel(tiny.tokenizerDir);
    const bb = extractBackboneParameters(weights, config.backbone);
    const transcoder = transcoderConfigOf(config, 'the export test');
    const tc = splitSamplerParameters(weights, transcoder);
    const bae = loadBaeParameters(tok.config.bae, tok.weights);
    const defs: Record<string, [GraphDefinition, NamedTensors]> = {
      backbone: [backboneGraph(config.backbone), bb],
      representation: [representationGraph(config.backbone, { layer: 0 }), bb],
      transcoderCondition: [conditionGraph(transcoder), tc.condition],
      transcoderStep: [stepGraph(transcoder), tc.step],
      tokenizerEncoder: [encoderGraph(tok.config.bae, 32, 32), bae],
      tokenizerDecoder: [decoderGraph(tok.config.bae, 32, 32), bae],
    };
    const rng = createRng('export-onnx-test');
    const B = 3;
    const dimOf = (d: number | string): number => (typeof d === 'number' ? d : B);
    const ort = await loadOrt();
    for (const [key, g] of Object.entries(manifest.graphs)) {
      const session = await ort.InferenceSession.create(join(out, g.file));
      try {
        expect([key, [...session.inputNames]]).toEqual([key, g.inputs.map((i) => i.name)]);
        expect([key, [...session.outputNames]]).toEqual([key, g.outputs.map((o) => o.name)]);
        const feeds: Record<string, CpuTensor> = {};
        const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
        for (const spec of g.inputs) {
          const shape = spec.shape.map(dimOf);
          const n = shape.reduce((a, b) => a * b, 1);
          let t: CpuTensor;
          if (spec.dtype === 'int32')
            t = new CpuTensor(
              Int32Array.from({ length: n }, () => rng.int(manifest.model.nullClass + 1)),
              shape,
            );
          else if (spec.name === 'bits' || spec.name === 'mask' || spec.name === 'x_t')
            t = new CpuTensor(
              Float32Array.from({ length: n }, () => rng.int(2)),
              shape,
            );
          else if (spec.name === 'tau')
            t = new CpuTensor(
              Float32Array.from({ length: n }, () => rng.int(transcoder.timesteps)),
              shape,
            );
          else if (spec.name === 'image') t = new CpuTensor(rng.uniformsF32(n), shape);
          else t = new CpuTensor(rng.normalsF32(n), shape);
          feeds[spec.name] = t;
          ortFeeds[spec.name] = new ort.Tensor(spec.dtype as 'float32' | 'int32', t.data as Float32Array | Int32Array, shape);
        }
        const got = await session.run(ortFeeds);
        const [def, params] = required(defs[key], `graph ${key}`);
        const compiled = await tfjs.compile(def, params);
        const want = await compiled.run(feeds);
        await compiled.dispose();
        for (const o of g.outputs) {
          const a = required(got[o.name], 'computed value');
          const w = required(want[o.name], 'expected value');
          expect([key, o.name, [...a.dims]]).toEqual([key, o.name, o.shape.map(dimOf)]);
          expect([key, o.name, [...a.dims]]).toEqual([key, o.name, [...w.shape]]);
          const ad = a.data as Float32Array;
          const wd = w.data as Float32Array;
          let worst = 0;
          let scale = 0;
          for (let i = 0; i < wd.length; i++) {
            worst = Math.max(worst, Math.abs(required(ad[i], 'computed value') - required(wd[i], 'expected value')));
            scale = Math.max(scale, Math.abs(required(wd[i], 'expected value')));
          }
          expect(scale).toBeGreaterThan(0);
          expect([key, o.name, worst <= 1e-4 * Math.max(1, scale)]).toEqual([key, o.name, true]);
        }
      } finally {
        await session.release();
      }
    }
  });

  it('replaces only files of its own earlier export unless --force, writes through a staging directory and removes leftovers of killed exports', async () => {
    const out = join(root, 'onnx-rules');
    const graphFiles = [
      'backbone.onnx',
      'representation.onnx',
      'tokenizer_decoder.onnx',
      'tokenizer_encoder.onnx',
      'transcoder_condition.onnx',
      'transcoder_step.onnx',
    ];
    await mkdir(out);
    // A file the export did not write, and the staging directory of a killed export (pid 2^22 + 1 is never alive).
    await writeFile(join(out, 'backbone.onnx'), 'user file');
    const leftover = `.staging-${4194305}-abcdef`;
    await mkdir(join(out, leftover));
    await writeFile(join(out, leftover, 'representation.onnx'), 'partial');

    const refused = await runCli(['export-onnx', '--model', tiny.modelDir, '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/backbone\.onnx already exists and was not written by `bigr export-onnx`.*--force/);
    expect(await readFile(join(out, 'backbone.onnx'), 'utf8')).toBe('user file');
    expect((await readdir(out)).sort()).toEqual([leftover, 'backbone.onnx'].sort());

    const forced = await runCli(['--quiet', '--force', 'export-onnx', '--model', tiny.modelDir, '--out', out]);
    expect([forced.code, forced.stderr]).toEqual([0, '']);
    expect((await readdir(out)).sort()).toEqual([...graphFiles, 'manifest.json'].sort());
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      graphs: Record<string, ManifestGraph>;
      model: { representationLayer: number };
    };
    for (const g of Object.values(manifest.graphs))
      expect([
        g.file,
        createHash('sha256')
          .update(await readFile(join(out, g.file)))
          .digest('hex'),
      ]).toEqual([g.file, g.sha256]);

    // Its own earlier export is replaced without --force (here with another representation layer).
    const again = await runCli(['--quiet', 'export-onnx', '--model', tiny.modelDir, '--out', out, '--layer', '1']);
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect((JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as typeof manifest).model.representationLayer).toBe(1);
    expect((await readdir(out)).sort()).toEqual([...graphFiles, 'manifest.json'].sort());

    // A manifest.json of something else is not an earlier export; a file as --out is refused.
    const other = join(root, 'onnx-other');
    await mkdir(other);
    await writeFile(join(other, 'manifest.json'), JSON.stringify({ format: 'something-else', graphs: { a: { file: 'backbone.onnx' } } }));
    const notOurs = await runCli(['export-onnx', '--model', tiny.modelDir, '--out', other]);
    expect(notOurs.code).toBe(2);
    expect(notOurs.stderr).toMatch(/manifest\.json already exists and was not written by `bigr export-onnx`/);
    const asFile = await runCli(['export-onnx', '--model', tiny.modelDir, '--out', join(other, 'manifest.json')]);
    expect(asFile.code).toBe(2);
    expect(asFile.stderr).toMatch(/is a file/);
  });
  it("exports a categorical, causal study variant: the categorical head's graph instead of the transcoder's, head and attention in the manifest", async () => {
    const variant = await writeTinyModel(join(root, 'variant'), { head: 'categorical', attention: 'causal', bitsPerToken: 6 });
    await perturbModelWeights(variant.modelDir, 0.05);
    const out = join(root, 'onnx-variant');
    const run = await runCli(['--json', '--quiet', 'export-onnx', '--model', variant.modelDir, '--out', out]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      graphs: Record<string, ManifestGraph>;
      model: Record<string, unknown>;
      config: { head: string; backbone: { attention: string }; categorical?: unknown; transcoder?: unknown };
    };
    expect(Object.keys(manifest.graphs).sort()).toEqual(['backbone', 'categoricalHead', 'representation', 'tokenizerDecoder', 'tokenizerEncoder']);
    expect(manifest.model).toMatchObject({ head: 'categorical', attention: 'causal', commit: 'threshold', categorical: { classes: 64 }, bitsPerToken: 6 });
    expect(manifest.model['decoding']).toMatch(/autoregressive/);
    expect(manifest.model['transcoder']).toBeUndefined();
    expect([manifest.config.head, manifest.config.backbone.attention, manifest.config.transcoder]).toEqual(['categorical', 'causal', undefined]);
    const head = required(manifest.graphs['categoricalHead'], 'categorical head graph');
    expect([head.file, head.inputs, head.outputs]).toEqual([
      'categorical_head.onnx',
      [{ name: 'features', dtype: 'float32', shape: ['rows', 32] }],
      [{ name: 'logits', dtype: 'float32', shape: ['rows', 64] }],
    ]);

    // The exported head on onnxruntime against the in-process head the pipeline samples with (here on tfjs) and a
    // float64 F·Wᵀ + b written here, on the same features.
    const ort = await loadOrt();
    const tfjs = await resolveEngine({ purpose: 'inference', device: 'tfjs-cpu' });
    const bigr = await BigrPipeline.fromDirectory(variant.modelDir, tfjs);
    const { weights } = await readBigrModel(variant.modelDir);
    const session = await ort.InferenceSession.create(join(out, head.file));
    try {
      const rows = 5;
      const D = 32;
      const C = 64;
      const features = new CpuTensor<'float32'>(createRng('head-features').normalsF32(rows * D), [rows, D]);
      const got = required((await session.run({ features: new ort.Tensor('float32', features.data, [rows, D]) }))['logits'], 'ONNX logits');
      expect([...got.dims]).toEqual([rows, C]);
      if (!(bigr.head instanceof CategoricalSampler)) throw new Error('the pipeline did not load the categorical head');
      const inProcess = (await bigr.head.logits(features)).data;
      const w = getOrThrow(weights, 'cat_head.weight', 'weight').data as Float32Array;
      const bias = getOrThrow(weights, 'cat_head.bias', 'bias').data as Float32Array;
      const reference = new Float64Array(rows * C);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < C; c++) {
          let acc = required(bias[c], 'bias');
          for (let d = 0; d < D; d++) acc += required(features.data[r * D + d], 'feature') * required(w[c * D + d], 'weight');
          reference[r * C + c] = acc;
        }
      const onnx = got.data as Float32Array;
      expect(relativeMaxError(onnx, inProcess)).toBeLessThan(1e-5);
      expect(relativeMaxError(onnx, reference)).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(reference, Math.abs))).toBeGreaterThan(0.01);
    } finally {
      await session.release();
      await bigr.dispose();
    }

    // The exported backbone is causal: changing token j leaves the features of tokens 0…j unchanged (token n is read at
    // the position before it, docs/algorithm.md §13.2) and changes later ones.
    const backbone = await ort.InferenceSession.create(join(out, required(manifest.graphs['backbone'], 'backbone graph').file));
    try {
      const N = 16;
      const K = 6;
      const rng = createRng('causal-bits');
      const bits = Float32Array.from({ length: N * K }, () => rng.int(2));
      const changed = Float32Array.from(bits);
      const j = 7;
      for (let k = 0; k < K; k++) changed[j * K + k] = 1 - required(bits[j * K + k], 'bit');
      const featuresOf = async (b: Float32Array): Promise<Float32Array> => {
        const r = await backbone.run({
          bits: new ort.Tensor('float32', b, [1, N, K]),
          mask: new ort.Tensor('float32', new Float32Array(N), [1, N]),
          labels: new ort.Tensor('int32', Int32Array.of(1), [1]),
        });
        return required(r['features'], 'features').data as Float32Array;
      };
      const a = await featuresOf(bits);
      const c = await featuresOf(changed);
      const D = 32;
      expect(Array.from(c.subarray(0, (j + 1) * D))).toEqual(Array.from(a.subarray(0, (j + 1) * D)));
      expect(relativeMaxError(c.subarray((j + 1) * D), a.subarray((j + 1) * D))).toBeGreaterThan(1e-3);
    } finally {
      await backbone.release();
    }
  });
});
