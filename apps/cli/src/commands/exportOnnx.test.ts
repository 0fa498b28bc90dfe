import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuTensor, createRng, resolveEngine, type GraphDefinition, type NamedTensors, required } from '@bigr/core';
import { loadOrt } from '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { backboneGraph, extractBackboneParameters, representationGraph } from '@bigr/backbone';
import { conditionGraph, splitSamplerParameters, stepGraph } from '@bigr/transcoder';
import { decoderGraph, encoderGraph, loadBaeParameters } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { perturbModelWeights } from '../testing/evalFixtures.js';
import { readBigrModel } from '../bigrModelDir.js';
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
    const tc = splitSamplerParameters(weights, config.transcoder);
    const bae = loadBaeParameters(tok.config.bae, tok.weights);
    const defs: Record<string, [GraphDefinition, NamedTensors]> = {
      backbone: [backboneGraph(config.backbone), bb],
      representation: [representationGraph(config.backbone, { layer: 0 }), bb],
      transcoderCondition: [conditionGraph(config.transcoder), tc.condition],
      transcoderStep: [stepGraph(config.transcoder), tc.step],
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
              Float32Array.from({ length: n }, () => rng.int(config.transcoder.timesteps)),
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
});
