import { FormatError, readSafetensorsHeader } from '@bigr/core';
import { BAE_PRESETS, baeParameterShapes, configFromHparams, configToHparams, encoderPlan } from '@bigr/tokenizer';
import { fixturePath, loadJsonFixture } from '@bigr/testing';
import { inferBaeLayout } from './baeLayout.js';

/** Every key of an official B-AE state dict (unused conv_out/logsigma included, as in released files). */
function presetShapes(name: keyof typeof BAE_PRESETS): Map<string, readonly number[]> {
  return new Map(baeParameterShapes(BAE_PRESETS[name], { includeUnused: true }));
}

async function fixtureShapes(): Promise<Map<string, readonly number[]>> {
  const header = await readSafetensorsHeader(fixturePath('tiny_bae_weights.safetensors'));
  return new Map(header.tensors.map((t) => [t.name, t.shape]));
}

describe('inferBaeLayout', () => {
  it('recognises the released 256 px layout (attention at encoder block 14, docs/algorithm.md §1.3) for every code width', () => {
    for (const name of ['bae-256-d16', 'bae-256-d20', 'bae-256-d24', 'bae-256-d32'] as const) {
      const shapes = presetShapes(name);
      expect(shapes.has('encoder.blocks.14.q.weight')).toBe(true);
      const r = inferBaeLayout(shapes);
      expect(r.config).toEqual(BAE_PRESETS[name]);
      expect(r.variant).toBe('released-256');
      expect(r.attentionLevels).toEqual([4]);
      expect(r.resolutionSource).toBe('released-convention');
      expect(r.notes).toEqual([]);
    }
  });

  it('recognises the released 512 px layout (no attention inside the levels, indices shifted by 2)', () => {
    const shapes = presetShapes('bae-512-d32');
    expect(shapes.has('encoder.blocks.16.q.weight')).toBe(true);
    expect(shapes.has('encoder.blocks.18.weight')).toBe(true); // GroupNorm
    expect(shapes.has('encoder.blocks.20.weight')).toBe(false);
    const r = inferBaeLayout(shapes);
    expect(r.config).toEqual(BAE_PRESETS['bae-512-d32']);
    expect(r.config.attnResolutions).toEqual([16]); // as in the released hparams: 16 is never reached at 512 px
    expect(r.variant).toBe('released-512');
    expect(r.attentionLevels).toEqual([]);
    // The same weights paired with a 16×16 BiGR grid run at 256 px without attention (and say so).
    const at256 = inferBaeLayout(shapes, { gridSide: 16 });
    expect(at256.config.resolution).toBe(256);
    expect(encoderPlan(at256.config).filter((b) => b.kind === 'AttnBlock')).toHaveLength(1); // the middle block only
    expect(at256.notes.join(' ')).toMatch(/released 512 px layout .* 256 px/);
  });

  it('infers the official-tiny B-AE exactly as tiny_bae_config.json from its grid or its img_size', async () => {
    const shapes = await fixtureShapes();
    const json = (await loadJsonFixture('tiny_bae_config.json')) as { hparams: Record<string, unknown> };
    const expected = configFromHparams(json.hparams);
    const fromGrid = inferBaeLayout(shapes, { gridSide: 4 });
    expect(fromGrid.config).toEqual(expected);
    const h = configToHparams(fromGrid.config);
    for (const k of ['nf', 'ch_mult', 'res_blocks', 'attn_resolutions', 'emb_dim', 'codebook_size', 'img_size', 'n_channels', 'norm_first']) {
      expect([k, h[k]]).toEqual([k, json.hparams[k]]);
    }
    expect(fromGrid.variant).toBe('custom');
    expect(fromGrid.resolutionSource).toBe('bigr-grid');
    expect(fromGrid.attentionLevels).toEqual([3]);
    // the fixture holds conv_out of every ResBlock (8 of them with in = out: encoder 1, 3, 9, 11; generator 2, 4, 5, 12)
    // and generator.logsigma (4 tensors), all unused by the forward pass
    expect(fromGrid.unusedTensors).toBe(2 * 8 + 4);
    expect(inferBaeLayout(shapes, { resolution: 32 }).config).toEqual(expected);
    // Without either, the released convention puts the attention level at 16×16: same graph, nominal size 128.
    const guessed = inferBaeLayout(shapes);
    expect(guessed.config).toEqual({ ...expected, resolution: 128, attnResolutions: [16] });
    expect(encoderPlan(guessed.config)).toEqual(encoderPlan(expected));
    expect(guessed.notes.join(' ')).toMatch(/--resolution/);
  });

  it('accepts a state dict without the unused tensors', async () => {
    const shapes = new Map(baeParameterShapes(BAE_PRESETS['official-tiny']));
    const r = inferBaeLayout(shapes, { gridSide: 4 });
    expect(r.unusedTensors).toBe(0);
    expect(r.config).toEqual(BAE_PRESETS['official-tiny']);
  });

  it('lists missing, unknown and mis-shaped keys', async () => {
    const shapes = await fixtureShapes();
    shapes.delete('generator.blocks.5.conv2.weight');
    shapes.set('encoder.extra', [3]);
    shapes.set('quantize.proj.0.bias', [17]);
    let err: unknown;
    try {
      inferBaeLayout(shapes, { gridSide: 4 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    const msg = (err as Error).message;
    expect(msg).toContain('missing 1 key(s): generator.blocks.5.conv2.weight');
    expect(msg).toContain('unknown 1 key(s): encoder.extra');
    expect(msg).toContain('quantize.proj.0.bias is [17] but [16] was expected');
  });

  it('explains a block list that is not the B-AE layout', async () => {
    const shapes = await fixtureShapes();
    for (const k of [...shapes.keys()]) if (k.startsWith('encoder.blocks.3.')) shapes.delete(k);
    expect(() => inferBaeLayout(shapes)).toThrow(/encoder\.blocks has no tensors for block\(s\) 3/);
    const noEnc = new Map([...(await fixtureShapes())].filter(([k]) => !k.startsWith('encoder.')));
    expect(() => inferBaeLayout(noEnc)).toThrow(/no "encoder\.blocks\.\*" tensors/);
    const full = await fixtureShapes();
    expect(() => inferBaeLayout(full, { resolution: 20 })).toThrow(/multiple of the downsampling factor 8/);
  });
});
