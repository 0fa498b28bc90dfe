import { ConfigError } from '@bigr/core';
import { ffnHiddenSize, configFfnHidden, resolveBackboneConfig } from './config.js';
import { BACKBONE_PRESETS, presetConfig } from './presets.js';
import { backboneParameterShapes, countBackboneParameters, inferBackboneConfig } from './stateDict.js';
import { readFixture } from './test/helpers.js';

/** Denoiser parameter count (docs/algorithm.md §3 shapes), to compare totals with §2.1. */
function denoiserParams(K: number, Dh: number, D: number, blocks: number): number {
  const lin = (i: number, o: number) => i * o + o;
  return lin(256, Dh) + lin(Dh, Dh) + lin(K, Dh) + lin(D, Dh) + blocks * (2 * lin(Dh, Dh) + lin(Dh, 3 * Dh)) + lin(Dh, 2 * Dh) + lin(Dh, K);
}

describe('presets and parameter shapes', () => {
  it('SwiGLU hidden sizes are 2816 / 3584 / 4096 (docs/algorithm.md §12)', () => {
    expect(ffnHiddenSize(1024)).toBe(2816);
    expect(ffnHiddenSize(1280)).toBe(3584);
    expect(ffnHiddenSize(1536)).toBe(4096);
    expect(ffnHiddenSize(64)).toBe(256);
    expect(configFfnHidden(presetConfig('BiGR-XL'))).toBe(3584);
  });

  it('Table 7 sizes', () => {
    const l = presetConfig('BiGR-L');
    expect([l.layers, l.heads, l.dim, l.dim / l.heads]).toEqual([24, 16, 1024, 64]);
    const xl = presetConfig('BiGR-XL');
    expect([xl.layers, xl.heads, xl.dim]).toEqual([36, 20, 1280]);
    const xxl = presetConfig('BiGR-XXL');
    expect([xxl.layers, xxl.heads, xxl.dim]).toEqual([48, 24, 1536]);
    expect(BACKBONE_PRESETS['BiGR-L']?.transcoder).toEqual({ blocks: 3, width: 1024 });
    expect(presetConfig('BiGR-L-512').tokens).toBe(1024);
  });

  it('parameter counts: denoiser counts of §2.1 and the backbone formula', () => {
    // The §2.1 denoiser counts follow from the §10.1 shapes.
    expect(denoiserParams(24, 1024, 1024, 3)).toBe(20_255_768);
    expect(denoiserParams(24, 1280, 1280, 6)).toBe(56_140_824);
    expect(denoiserParams(24, 1536, 1536, 8)).toBe(104_346_648);
    // Backbone = 1001·D + D + (K·D + D) + (6D·D + 6D) + L·(6D + 4D² + 3·D·H + 2D) + D + N·D.
    const l = presetConfig('BiGR-L');
    expect(countBackboneParameters(l)).toBe(316_090_368);
    // §2.1 totals are exactly D − K below backbone + denoiser (a discrepancy in the quoted totals, not in the shapes).
    expect(countBackboneParameters(l) + denoiserParams(24, 1024, 1024, 3) - (1024 - 24)).toBe(336_345_136);
  });

  it('the tiny fixture: 160,000 backbone parameters (236,816 with the denoiser) and every key/shape matches', async () => {
    const c = presetConfig('BiGR-tiny');
    expect(countBackboneParameters(c) + denoiserParams(16, 64, 64, 2)).toBe(236_816);
    const sd = await readFixture('tiny_transformer_weights.safetensors');
    for (const [name, shape] of backboneParameterShapes(c)) expect([name, sd.get(name)?.shape]).toEqual([name, shape]);
    const inferred = inferBackboneConfig(sd, { heads: 4 });
    expect([inferred.dim, inferred.layers, inferred.bitsPerToken, inferred.tokens, inferred.numClasses]).toEqual([64, 2, 16, 16, 10]);
  });

  it('rejects bad configs with ConfigError', () => {
    expect(() => resolveBackboneConfig({ dim: 60, layers: 1, heads: 7, bitsPerToken: 4, tokens: 16 })).toThrow(ConfigError);
    expect(() => resolveBackboneConfig({ dim: 64, layers: 1, heads: 4, bitsPerToken: 4, tokens: 15 })).toThrow(/perfect square/);
    expect(() => presetConfig('BiGR-Q')).toThrow(/Known presets/);
  });
});
