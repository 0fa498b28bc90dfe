import { ConfigError, FormatError, readSafetensorsHeader, required } from '@bigr/core';
import { BACKBONE_PRESETS, backboneParameterShapes, inferBackboneConfig, resolveBackboneConfig } from '@bigr/backbone';
import { denoiserParameterShapes } from '@bigr/transcoder';
import { fixturePath, loadFixture, loadJsonFixture } from '@bigr/testing';
import { inferBigrLayout } from './bigrLayout.js';

/** Shapes of an official state dict of a preset with K bits: backbone, denoiser, its duplicate and the scheduler buffers. */
function releasedShapes(name: string, K: number): Map<string, readonly number[]> {
  const p = required(BACKBONE_PRESETS[name], `preset ${name}`);
  const config = resolveBackboneConfig({ ...p.backbone, bitsPerToken: K });
  const sizes = { bitsPerToken: K, featureDim: config.dim, width: p.transcoder.width, blocks: p.transcoder.blocks };
  return new Map<string, readonly number[]>([
    ...backboneParameterShapes(config),
    ...denoiserParameterShapes({ ...sizes, prefix: 'denoise_mlp' }),
    ...denoiserParameterShapes({ ...sizes, prefix: 'diffusion_processor._denoise_fn' }),
    ...['k_final', 'b_final', 'beta', 'cumbeta'].map((b) => [`diffusion_processor.scheduler.${b}`, [257]] as const),
  ]);
}

async function fixtureShapes(): Promise<Map<string, readonly number[]>> {
  const header = await readSafetensorsHeader(fixturePath('tiny_transformer_weights.safetensors'));
  return new Map(header.tensors.map((t) => [t.name, t.shape]));
}

describe('inferBigrLayout', () => {
  it.each([
    // docs/algorithm.md §2.1: total parameters (backbone + denoiser, shared tensors once) and the denoiser alone. The §2.1
    // totals are exactly D − K below the count from the §10.1 shapes (a known discrepancy of the quoted totals, see
    // packages/backbone/src/presets.test.ts); the tiny fixture's count (236,816) is checked exactly below.
    ['BiGR-L', 24, 336_345_136, 20_255_768],
    ['BiGR-XL', 24, 799_371_568, 56_140_824],
    ['BiGR-XXL', 24, 1_480_026_672, 104_346_648],
    ['BiGR-L-512', 32, 372_717_632, undefined],
  ] as const)('recognises the released %s (K = %i) with the parameter counts of docs/algorithm.md §2.1', (name, K, total, denoiser) => {
    const inferred = inferBigrLayout(releasedShapes(name, K));
    const p = required(BACKBONE_PRESETS[name], `preset ${name}`);
    expect(inferred.preset).toBe(name);
    expect(inferred.backbone).toEqual(resolveBackboneConfig({ ...p.backbone, bitsPerToken: K }));
    expect(inferred.backbone.heads).toBe(p.backbone.dim / 64);
    expect(inferred.headsSource).toBe('released-head-dim');
    expect(inferred.transcoder).toMatchObject({
      width: p.transcoder.width,
      blocks: p.transcoder.blocks,
      bitsPerToken: K,
      featureDim: p.backbone.dim,
      timesteps: 256,
      inferenceSteps: 100,
    });
    expect(inferred.hasDuplicate).toBe(true);
    expect(inferred.schedulerBuffers).toHaveLength(4);
    expect(inferred.backboneParameters + inferred.transcoderParameters - (p.backbone.dim - K)).toBe(total);
    if (denoiser !== undefined) expect(inferred.transcoderParameters).toBe(denoiser);
  });

  it('infers the official-tiny configuration (head_dim 16 given) exactly as tiny_transformer_config.json', async () => {
    const shapes = await fixtureShapes();
    const json = (await loadJsonFixture('tiny_transformer_config.json')) as { model_args: Record<string, unknown>; derived: { n_params_unique: number } };
    const a = json.model_args;
    const inferred = inferBigrLayout(shapes, { headDim: 16 });
    const b = inferred.backbone;
    const t = inferred.transcoder;
    expect({
      dim: b.dim,
      n_layer: b.layers,
      n_head: b.heads,
      binary_size: b.bitsPerToken,
      block_size: b.tokens,
      seq_len: b.tokens,
      num_classes: b.numClasses,
      cls_token_num: b.clsTokenNum,
      multiple_of: b.multipleOf,
      ffn_dim_multiplier: b.ffnDimMultiplier,
      rope_base: b.ropeBase,
      norm_eps: b.normEps,
      use_adaLN: b.useAdaLN,
      denoise_hidden_dim: t.width,
      num_block_mlp: t.blocks,
      n_sample_steps: t.timesteps,
      infer_steps: t.inferenceSteps,
      p_flip: t.target === 'xor',
    }).toEqual({
      dim: a['dim'],
      n_layer: a['n_layer'],
      n_head: a['n_head'],
      binary_size: a['binary_size'],
      block_size: a['block_size'],
      seq_len: a['seq_len'],
      num_classes: a['num_classes'],
      cls_token_num: a['cls_token_num'],
      multiple_of: a['multiple_of'],
      ffn_dim_multiplier: a['ffn_dim_multiplier'],
      rope_base: a['rope_base'],
      norm_eps: a['norm_eps'],
      use_adaLN: a['use_adaLN'],
      denoise_hidden_dim: a['denoise_hidden_dim'],
      num_block_mlp: a['num_block_mlp'],
      n_sample_steps: a['n_sample_steps'],
      infer_steps: a['infer_steps'],
      p_flip: a['p_flip'],
    });
    expect(inferred.preset).toBeUndefined();
    expect(inferred.backboneParameters + inferred.transcoderParameters).toBe(json.derived.n_params_unique);
    // the backbone package's own inference from the real tensors agrees
    expect(b).toEqual(inferBackboneConfig((await loadFixture('tiny_transformer_weights.safetensors')).tensors, { heads: 4 }));
    // --heads overrides the head width
    expect(inferBigrLayout(shapes, { heads: 4 }).backbone).toEqual(b);
    expect(inferBigrLayout(shapes, { heads: 4 }).headsSource).toBe('heads-option');
  });

  it('lists missing, unknown and mis-shaped keys in one error', async () => {
    const shapes = await fixtureShapes();
    shapes.delete('layers.1.attention.wo.weight');
    shapes.delete('denoise_mlp.blocks.1.mlp.2.bias');
    shapes.set('freqs_cis', [17, 8, 2]);
    shapes.set('layers.0.ffn_norm.weight', [65]);
    let err: unknown;
    try {
      inferBigrLayout(shapes, { headDim: 16 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    const msg = (err as Error).message;
    expect(msg).toContain('missing 2 key(s): layers.1.attention.wo.weight, denoise_mlp.blocks.1.mlp.2.bias');
    expect(msg).toContain('unknown 1 key(s): freqs_cis');
    expect(msg).toContain('layers.0.ffn_norm.weight is [65] but [64] was expected');
  });

  it('hints at a nested state dict, and refuses a partial duplicate or scheduler group', async () => {
    const nested = new Map([...(await fixtureShapes())].map(([k, s]) => [`state_dict.${k}`, s] as const));
    expect(() => inferBigrLayout(nested, { headDim: 16 })).toThrow(/not a BiGR state dict: missing norm\.weight/);
    const partial = await fixtureShapes();
    partial.delete('diffusion_processor._denoise_fn.final_layer.linear.bias');
    expect(() => inferBigrLayout(partial, { headDim: 16 })).toThrow(
      /only part of the duplicate denoiser .*missing 1 key\(s\): diffusion_processor\._denoise_fn\.final_layer\.linear\.bias/,
    );
    const noBeta = await fixtureShapes();
    noBeta.delete('diffusion_processor.scheduler.beta');
    expect(() => inferBigrLayout(noBeta, { headDim: 16 })).toThrow(/only part of the scheduler buffers/);
  });

  it('accepts a state dict without the duplicate copy or buffers, or with only the duplicate copy', async () => {
    const shapes = await fixtureShapes();
    for (const k of [...shapes.keys()]) if (k.startsWith('diffusion_processor.')) shapes.delete(k);
    const lean = inferBigrLayout(shapes, { headDim: 16 });
    expect(lean.hasDuplicate).toBe(false);
    expect(lean.schedulerBuffers).toEqual([]);
    expect(lean.transcoder.timesteps).toBe(256);
    const onlyDup = new Map([...shapes].map(([k, s]) => [k.replace(/^denoise_mlp\./, 'diffusion_processor._denoise_fn.'), s] as const));
    const fromDup = inferBigrLayout(onlyDup, { headDim: 16 });
    expect(fromDup.denoiserPrefix).toBe('diffusion_processor._denoise_fn');
    expect(fromDup.transcoder).toEqual(lean.transcoder);
  });

  it('asks for --heads when D is not a multiple of the head width', async () => {
    const shapes = await fixtureShapes();
    expect(() => inferBigrLayout(shapes, { headDim: 48 })).toThrow(ConfigError);
    expect(() => inferBigrLayout(shapes)).not.toThrow(); // 64 / 64 = 1 head: valid, just not the fixture's 4
  });
});
