import { initialiseBackbone } from './initialise.js';
import { presetConfig } from './presets.js';
import { backboneParameterShapes } from './stateDict.js';
import { backboneWeightDecay } from './weightDecayGroups.js';
import { rngFor, tensorNamed } from './test/helpers.js';

function stats(a: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / a.length) };
}

describe('initialisation and weight decay groups', () => {
  const config = presetConfig('BiGR-XS');
  const params = initialiseBackbone(config, rngFor('init'));

  it('follows docs/algorithm.md §2.6', () => {
    expect([...params.keys()]).toEqual([...backboneParameterShapes(config).keys()]);
    const get = (n: string) => tensorNamed(params, n).data as Float32Array;
    expect(stats(get('layers.0.attention.wqkv.weight')).std).toBeCloseTo(0.02, 3);
    expect(stats(get('cls_embedding.embedding_table.weight')).std).toBeCloseTo(0.02, 2);
    expect(stats(get('diffusion_pos_embed_learned')).std).toBeCloseTo(0.02, 2);
    expect(stats(get('mask_tok')).std).toBeGreaterThan(0.8);
    expect(stats(get('layers.1.ada_gss')).std).toBeCloseTo(1 / Math.sqrt(config.dim), 2);
    expect(get('adaLN.1.weight').every((v) => v === 0)).toBe(true);
    expect(get('adaLN.1.bias').every((v) => v === 0)).toBe(true);
    expect(get('tok_embeddings.bias').every((v) => v === 0)).toBe(true);
    expect(get('norm.weight').every((v) => v === 1)).toBe(true);
    expect(get('layers.1.ffn_norm.weight').every((v) => v === 1)).toBe(true);
    const again = initialiseBackbone(config, rngFor('init'));
    expect(Array.from(tensorNamed(again, 'layers.1.feed_forward.w2.weight').data.slice(0, 50))).toEqual(
      Array.from(get('layers.1.feed_forward.w2.weight').slice(0, 50)),
    );
  });

  it('weight decay 0.02 on rank ≥ 2 backbone tensors, 0 on rank-1, biases and the transcoder (docs/algorithm.md §5.2)', () => {
    const wd = backboneWeightDecay({ headParameterNames: ['head.w'] });
    const decayed = [...backboneParameterShapes(config)].filter(([n, s]) => wd(n, s) > 0).map(([n]) => n);
    expect(decayed).toContain('mask_tok');
    expect(decayed).toContain('diffusion_pos_embed_learned');
    expect(decayed).toContain('layers.0.ada_gss');
    expect(decayed).toContain('adaLN.1.weight');
    expect(decayed).toContain('cls_embedding.embedding_table.weight');
    expect(decayed).toContain('tok_embeddings.weight');
    expect(decayed).not.toContain('adaLN.1.bias');
    expect(decayed).not.toContain('norm.weight');
    expect(wd('layers.0.attention.wo.weight', [8, 8])).toBe(0.02);
    expect(wd('denoise_mlp.blocks.0.mlp.0.weight', [8, 8])).toBe(0);
    expect(wd('head.w', [8, 8])).toBe(0);
  });
});
