import '@bigr/engine-onnx';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuTensor, getOrThrow, loadModelDirectory, required, resolveEngine, type Engine } from '@bigr/core';
import { denoiserGraph } from '@bigr/transcoder';
import { configFromHparams } from '@bigr/tokenizer';
import { expectClose, fixturePath, loadFixture, loadJsonFixture } from '@bigr/testing';
import { loadBigrModel, readBigrModel } from '../bigrModelDir.js';
import { transcoderConfigOf } from '../bigrHead.js';
import { readTokenizerModel } from '../tokenizerModelDir.js';
import { importOfficial, type ImportReport } from './importOfficial.js';
import { formatImportReport } from './describeImport.js';
import { TINY_ARGS, tinyBaeStateDict, tinyBigrStateDict, writeBaeTh, writeBigrPt } from './test/tinyCheckpoints.js';

let dir: string;
let bigrPt: string;
let baeTh: string;
let engine: Engine;
let n = 0;
const fresh = (name: string): string => join(dir, `${name}-${n++}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-import-'));
  bigrPt = join(dir, 'bigr_tiny.pt');
  baeTh = join(dir, 'binaryae_ema_tiny.th');
  await writeBigrPt(bigrPt, await tinyBigrStateDict());
  await writeBaeTh(baeTh, await tinyBaeStateDict());
  engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tinyJson(): Promise<{ model_args: Record<string, unknown> }> {
  return (await loadJsonFixture('tiny_transformer_config.json')) as { model_args: Record<string, unknown> };
}

describe('importOfficial from a released-layout .pt (EMA + args) and .th (ae/disc/perceptual)', () => {
  let out: string;
  let report: ImportReport;
  beforeAll(async () => {
    out = fresh('model');
    const events: string[] = [];
    report = await importOfficial({ bigr: bigrPt, bae: baeTh, out, headDim: 16, onProgress: (e) => events.push(e.task) });
    expect(events).toContain('import');
    expect(events).toContain('torch-load');
  });

  it('reports what it read, inferred, verified and dropped', async () => {
    const a = (await tinyJson()).model_args;
    const b = required(report.bigr, 'report on the BiGR checkpoint');
    expect(report.kind).toBe('bigr');
    expect(b.source).toMatchObject({ layout: 'torch-zip', entry: 'ema', tensors: 76 });
    expect(b.inferred.backbone).toMatchObject({
      dim: a['dim'],
      layers: a['n_layer'],
      heads: a['n_head'],
      bitsPerToken: a['binary_size'],
      tokens: a['block_size'],
      numClasses: a['num_classes'],
    });
    expect(b.inferred.transcoder).toMatchObject({
      width: a['denoise_hidden_dim'],
      blocks: a['num_block_mlp'],
      timesteps: a['n_sample_steps'],
      inferenceSteps: a['infer_steps'],
    });
    expect(b.inferred.hasDuplicate).toBe(true);
    expect(b.inferred.schedulerBuffers).toHaveLength(4);
    expect(b.args).toEqual(TINY_ARGS);
    expect(report.bae.source).toMatchObject({ layout: 'torch-zip', entry: 'root' });
    expect(report.bae.dropped).toEqual({ disc: 5, perceptual: 2 });
    expect(report.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const text = formatImportReport(report).join('\n');
    expect(text).toContain('D 64, 2 layers, 4 heads (head_dim 16, as given)');
    expect(text).toContain('N 16 tokens (4×4 grid), 10 classes + null (index 10)');
    expect(text).toContain('width 64, 2 blocks, T = 256 diffusion steps (S = 100 at inference)');
    expect(text).toContain('duplicate denoiser copy identical; scheduler buffers equal the recomputed linear schedule');
    expect(text).toContain('nf 32, ch_mult [1, 1, 2, 1], res_blocks 1, attn_resolutions [4], emb_dim 32, K 16');
    expect(text).toContain('image size 32 px (from the BiGR grid); 8× downsampling → 4×4 latent');
    expect(text).toContain('dropped: 5 disc.*, 2 perceptual.*, 20 unused');
  });

  it('writes configs equal to the fixture config JSONs and only the used tensors', async () => {
    const { config, weights } = await readBigrModel(out);
    const a = (await tinyJson()).model_args;
    expect(config.backbone).toMatchObject({
      dim: a['dim'],
      layers: a['n_layer'],
      heads: a['n_head'],
      multipleOf: a['multiple_of'],
      ropeBase: a['rope_base'],
      normEps: a['norm_eps'],
      useAdaLN: a['use_adaLN'],
    });
    expect(weights.size).toBe(76 - 24 - 4); // no duplicate denoiser, no scheduler buffers
    expect([...weights.keys()].some((k) => k.startsWith('diffusion_processor.'))).toBe(false);
    const tok = await readTokenizerModel(join(out, 'tokenizer'));
    const hparams = ((await loadJsonFixture('tiny_bae_config.json')) as { hparams: Record<string, unknown> }).hparams;
    expect(tok.config.bae).toEqual(configFromHparams(hparams));
    expect(tok.config.pad).toBe(0);
    const official = await tinyBaeStateDict();
    for (const [k, t] of tok.weights) expect(Array.from(t.data)).toEqual(Array.from(getOrThrow(official, k, 'official tensor').data));
  });

  it('reproduces the official backbone cond_logits, denoiser out_logits and B-AE recon_det on onnxruntime', async () => {
    const model = await loadBigrModel(out, engine);
    try {
      const bb = await loadFixture('backbone.safetensors');
      const f = await model.features.features(
        bb.tensors.get('codes') as CpuTensor<'float32'>,
        bb.tensors.get('token_mask') as CpuTensor<'uint8'>,
        { kind: 'class', labels: getOrThrow(bb.tensors, 'labels', 'fixture tensor').data as Int32Array },
        false,
      );
      expectClose(f.data, getOrThrow(bb.tensors, 'cond_logits', 'fixture tensor').data, { atol: 1e-5, rtol: 0, what: 'cond_logits' });

      const dn = await loadFixture('denoiser.safetensors');
      const g = await engine.compile(denoiserGraph(transcoderConfigOf(model.config, 'test')), model.weights);
      try {
        const fixture = (name: string) => getOrThrow(dn.tensors, name, 'fixture tensor');
        const tau = Float32Array.from(fixture('time_steps').data);
        const r = await g.run({ x_t: fixture('x_t'), tau: new CpuTensor(tau, [tau.length]), features: fixture('cond') });
        expectClose(required(r['logits'], 'logits output').data, fixture('out_logits').data, { atol: 1e-5, rtol: 0, what: 'out_logits' });
      } finally {
        await g.dispose();
      }

      const ae = await loadFixture('bae.safetensors');
      const recon = await model.tokenizer.decode(ae.tensors.get('tokens_det') as CpuTensor<'float32'>);
      expectClose(recon.data, getOrThrow(ae.tensors, 'recon_det', 'fixture tensor').data, { atol: 5e-4, rtol: 0, what: 'recon_det' });
    } finally {
      await model.features.dispose();
      await model.head.dispose();
      await model.tokenizer.dispose();
    }
  });

  it('gives the same model directory from safetensors exports of the same state dicts', async () => {
    const st = fresh('st');
    // The fixture files are exactly such exports: the flat BiGR state dict, and the B-AE without the ae. prefix.
    const r = await importOfficial({
      bigr: fixturePath('tiny_transformer_weights.safetensors'),
      bae: fixturePath('tiny_bae_weights.safetensors'),
      out: st,
      headDim: 16,
    });
    expect(required(r.bigr, 'report on the BiGR checkpoint').source).toMatchObject({ layout: 'safetensors', entry: 'root' });
    expect(r.bae.dropped).toEqual({ disc: 0, perceptual: 0 });
    const a = await loadModelDirectory(out);
    const b = await loadModelDirectory(st);
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const [k, t] of a.tensors) expect(Array.from(getOrThrow(b.tensors, k, 'tensor').data)).toEqual(Array.from(t.data));
    expect((b.config as { backbone: unknown }).backbone).toEqual((a.config as { backbone: unknown }).backbone);
    const ta = await loadModelDirectory(join(out, 'tokenizer'));
    const tb = await loadModelDirectory(join(st, 'tokenizer'));
    for (const [k, t] of ta.tensors) expect(Array.from(getOrThrow(tb.tensors, k, 'tensor').data)).toEqual(Array.from(t.data));
  });
});

describe('importOfficial variants', () => {
  it('falls back to ckpt["model"] (with a note) and takes class names', async () => {
    const pt = fresh('model.pt');
    await writeBigrPt(pt, await tinyBigrStateDict(), 'model');
    const names = ['tee', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
    const r = await importOfficial({ bigr: pt, bae: baeTh, out: fresh('m'), heads: 4, classNames: names });
    expect(required(r.bigr, 'report on the BiGR checkpoint').source.entry).toBe('model');
    expect(r.notes.join(' ')).toMatch(/no "ema" entry; the non-EMA "model" weights/);
    expect((await readBigrModel(r.out)).config.classNames).toEqual(names);
  });

  it('imports a B-AE alone as a tokenizer directory (for hashing)', async () => {
    const out = fresh('tok');
    const r = await importOfficial({ bae: baeTh, out, resolution: 32 });
    expect(r.kind).toBe('tokenizer');
    expect(r.bigr).toBeUndefined();
    expect(r.tokenizerDir).toBe(out);
    const tok = await readTokenizerModel(out);
    expect(tok.config.bae.resolution).toBe(32);
    expect(tok.config.bae.attnResolutions).toEqual([4]);
    expect(tok.config.classNames).toEqual([]);
    expect(formatImportReport(r).join('\n')).toContain('image size 32 px (as given)');
  });
});

describe('importOfficial refuses malformed checkpoints with clear errors, writing nothing', () => {
  async function failing(tensors: Map<string, CpuTensor>): Promise<{ error: Error; out: string }> {
    const pt = fresh('bad.pt');
    await writeBigrPt(pt, tensors);
    const out = fresh('bad');
    const error = await importOfficial({ bigr: pt, bae: baeTh, out, headDim: 16 }).then(
      () => new Error('import succeeded'),
      (e: unknown) => e as Error,
    );
    expect(existsSync(join(out, 'config.json'))).toBe(false);
    expect(existsSync(join(out, 'tokenizer', 'config.json'))).toBe(false);
    return { error, out };
  }

  it('a missing key', async () => {
    const t = await tinyBigrStateDict();
    t.delete('layers.1.ffn_norm.weight');
    const { error } = await failing(t);
    expect(error.name).toBe('FormatError');
    expect(error.message).toMatch(/BiGR checkpoint .*bad\.pt-\d+ \("ema" state dict\) does not match .*missing 1 key\(s\): layers\.1\.ffn_norm\.weight/);
  });

  it('an unknown key', async () => {
    const t = await tinyBigrStateDict();
    t.set('freqs_cis', new CpuTensor(new Float32Array(17 * 8 * 2), [17, 8, 2]));
    const { error } = await failing(t);
    expect(error.name).toBe('FormatError');
    expect(error.message).toContain('unknown 1 key(s): freqs_cis');
  });

  it('duplicated denoiser copies that differ', async () => {
    const t = await tinyBigrStateDict(true);
    const w = getOrThrow(t, 'diffusion_processor._denoise_fn.blocks.1.mlp.0.weight', 'tensor').data as Float32Array;
    w[7] = required(w[7], 'weight') + 1e-3;
    const { error } = await failing(t);
    expect(error.name).toBe('FormatError');
    expect(error.message).toMatch(/"diffusion_processor\._denoise_fn\.blocks\.1\.mlp\.0\.weight" differs from "denoise_mlp\.blocks\.1\.mlp\.0\.weight"/);
  });

  it('a scheduler buffer that is not the linear schedule', async () => {
    const t = await tinyBigrStateDict();
    (getOrThrow(t, 'diffusion_processor.scheduler.b_final', 'tensor').data as Float32Array)[10] = 0.5;
    const { error } = await failing(t);
    expect(error.name).toBe('FormatError');
    expect(error.message).toMatch(/diffusion_processor\.scheduler\.b_final\[10\] is 0\.5 but the linear Bernoulli schedule with T = 256 gives 0\.0195/);
  });

  it('a truncated archive (BiGR .pt and B-AE .th)', async () => {
    const bytes = await readFile(bigrPt);
    const cut = fresh('cut.pt');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const e1 = await importOfficial({ bigr: cut, bae: baeTh, out: fresh('x'), headDim: 16 }).catch((e: unknown) => e as Error);
    expect((e1 as Error).name).toBe('FormatError');
    expect((e1 as Error).message).toContain(cut);
    const thBytes = await readFile(baeTh);
    const cutTh = fresh('cut.th');
    await writeFile(cutTh, thBytes.subarray(0, thBytes.length - 100));
    const e2 = await importOfficial({ bae: cutTh, out: fresh('x'), resolution: 32 }).catch((e: unknown) => e as Error);
    expect((e2 as Error).name).toBe('FormatError');
  });

  it('a B-AE with keys outside ae/disc/perceptual, a K mismatch, a wrong class list, a missing file', async () => {
    const th = fresh('extra.th');
    await writeBaeTh(th, await tinyBaeStateDict(), new Map([['ema_decay_state.weight', new CpuTensor(new Float32Array(2), [2])]]));
    await expect(importOfficial({ bae: th, out: fresh('x') })).rejects.toThrow(
      /1 unknown key\(s\) outside ae\.\*, disc\.\* and perceptual\.\*: ema_decay_state\.weight/,
    );
    const k8 = new Map(await tinyBaeStateDict());
    const narrow = (name: string, shape: number[]): void => {
      k8.set(name, new CpuTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape));
    };
    narrow('quantize.proj.0.weight', [8, 32, 1, 1]);
    narrow('quantize.proj.0.bias', [8]);
    narrow('quantize.embed.weight', [8, 32]);
    const thK = fresh('k8.th');
    await writeBaeTh(thK, k8);
    await expect(importOfficial({ bigr: bigrPt, bae: thK, out: fresh('x'), headDim: 16 })).rejects.toThrow(
      /B-AE has K = 8 bits per token but the BiGR model expects K = 16/,
    );
    await expect(importOfficial({ bigr: bigrPt, bae: baeTh, out: fresh('x'), headDim: 16, classNames: ['a', 'b'] })).rejects.toThrow(
      /2 entries but the model has 10 classes/,
    );
    await expect(importOfficial({ bigr: join(dir, 'nope.pt'), bae: baeTh, out: fresh('x') })).rejects.toThrow(/does not exist/);
    await expect(importOfficial({ bigr: bigrPt, bae: '', out: fresh('x') })).rejects.toThrow(/needs the B-AE checkpoint/);
  });
});
