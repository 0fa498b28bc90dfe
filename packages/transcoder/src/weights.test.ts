import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { at, CpuTensor, createRng, getOrThrow, parseSafetensors, serializeSafetensors } from '@bigr/core';
import { denoiserParameterShapes } from './denoiser.js';
import { loadTranscoderWeights, saveTranscoderWeights } from './weightsFile.js';
import { TRANSCODER_INIT_STD, initTranscoderParameters, isZeroInitialised, parseTranscoderWeights } from './weights.js';
import { TRANSCODER_PRESETS, transcoderPreset } from './presets.js';
import { resolveTranscoderConfig } from './config.js';
import { fixturePath, loadFixture } from './test/fixtures.js';

const SIZES = { bitsPerToken: 16, featureDim: 48, width: 128, blocks: 3, prefix: 'denoise_mlp' };

describe('transcoder weights', () => {
  it('initialise per docs/algorithm.md §2.6: N(0, 0.02) weights, zero biases, zero adaLN and final linear', () => {
    const p = initTranscoderParameters(SIZES, createRng('init'));
    expect([...p.keys()]).toEqual([...denoiserParameterShapes(SIZES).keys()]);
    for (const [name, t] of p) {
      const d = t.data as Float32Array;
      if (name.endsWith('.bias') || isZeroInitialised(name)) {
        expect(d.every((v) => v === 0)).toBe(true);
      } else {
        let s = 0;
        let s2 = 0;
        for (const v of d) {
          s += v;
          s2 += v * v;
        }
        const std = Math.sqrt(s2 / d.length - (s / d.length) ** 2);
        expect(Math.abs(std - TRANSCODER_INIT_STD)).toBeLessThan((5 * TRANSCODER_INIT_STD) / Math.sqrt(2 * d.length));
      }
    }
    expect(isZeroInitialised('denoise_mlp.blocks.2.adaLN_modulation.1.weight')).toBe(true);
    expect(isZeroInitialised('denoise_mlp.final_layer.linear.bias')).toBe(true);
    expect(isZeroInitialised('denoise_mlp.blocks.2.mlp.0.weight')).toBe(false);
    // Same seed, same weights.
    const q = initTranscoderParameters(SIZES, createRng('init'));
    expect(getOrThrow(q, 'denoise_mlp.c_embedder.weight', 'parameter').data).toEqual(getOrThrow(p, 'denoise_mlp.c_embedder.weight', 'parameter').data);
  });

  it('save then load round-trips exactly with official names', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bigr-transcoder-'));
    try {
      const p = initTranscoderParameters(SIZES, createRng('save'));
      const file = path.join(dir, 'transcoder.safetensors');
      await saveTranscoderWeights(file, p, SIZES);
      const loaded = await loadTranscoderWeights(file);
      expect(loaded.sizes).toEqual(SIZES);
      expect(loaded.timesteps).toBeUndefined();
      for (const [name, t] of p) expect(getOrThrow(loaded.params, name, 'loaded parameter').data).toEqual(t.data);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads the official tiny state dict, checking the duplicate copy and the scheduler buffers', async () => {
    const loaded = await loadTranscoderWeights(fixturePath('tiny_transformer_weights.safetensors'));
    expect(loaded.sizes).toEqual({ bitsPerToken: 16, featureDim: 64, width: 64, blocks: 2, prefix: 'denoise_mlp' });
    expect(loaded.timesteps).toBe(256);
    expect(loaded.params.size).toBe(denoiserParameterShapes(loaded.sizes).size);
    const raw = await loadFixture('tiny_transformer_weights.safetensors');
    expect(getOrThrow(loaded.params, 'denoise_mlp.final_layer.linear.weight', 'loaded parameter').data).toEqual(
      raw.get('denoise_mlp.final_layer.linear.weight').data,
    );

    // A corrupted duplicate or a wrong shape is reported.
    const tensors = new Map(raw.tensors);
    const dup = raw.get('diffusion_processor._denoise_fn.x_embedder.bias');
    const changed = (dup.data as Float32Array).slice();
    changed[0] = at(changed, 0, 'first bias entry') + 1;
    tensors.set('diffusion_processor._denoise_fn.x_embedder.bias', new CpuTensor(changed, dup.shape));
    expect(() => parseTranscoderWeights(serializeSafetensors(tensors))).toThrow(/differs/);
    expect(() => parseTranscoderWeights(serializeSafetensors(tensors), { verifyDuplicate: false })).not.toThrow();
    expect(() => parseTranscoderWeights(serializeSafetensors(raw.tensors), { sizes: { bitsPerToken: 16, featureDim: 64, width: 64, blocks: 3 } })).toThrow(
      /missing/,
    );
    expect(parseSafetensors(serializeSafetensors(raw.tensors)).tensors.size).toBe(raw.tensors.size);
  });

  it('presets follow Table 7', () => {
    expect(TRANSCODER_PRESETS['BiGR-L']).toEqual({ featureDim: 1024, width: 1024, blocks: 3 });
    expect(TRANSCODER_PRESETS['BiGR-XL']).toEqual({ featureDim: 1280, width: 1280, blocks: 6 });
    expect(TRANSCODER_PRESETS['BiGR-XXL']).toEqual({ featureDim: 1536, width: 1536, blocks: 8 });
    const c = transcoderPreset('BiGR-L', { bitsPerToken: 16 });
    expect(c).toEqual({
      bitsPerToken: 16,
      featureDim: 1024,
      width: 1024,
      blocks: 3,
      timesteps: 256,
      inferenceSteps: 100,
      target: 'xor',
      loss: 'wbce',
      prefix: 'denoise_mlp',
    });
    expect(resolveTranscoderConfig({ ...SIZES, target: 'z0' }).loss).toBe('bce');
    expect(() => transcoderPreset('BiGR-S' as never, { bitsPerToken: 16 })).toThrow(/Unknown transcoder preset/);
    expect(() => resolveTranscoderConfig({ ...SIZES, inferenceSteps: 300 })).toThrow(/S <= T/);
  });
});
