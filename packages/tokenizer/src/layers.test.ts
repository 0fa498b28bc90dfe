import { at, CpuTensor, createRng, required } from '@bigr/core';

import { validateConfig, type BaeConfig } from './config.js';
import { decoderGraph, decoderPlan, encoderGraph, encoderPlan } from './baeGraph.js';
import { baeParameterShapes, countParameters, initBaeParameters } from './parameters.js';
import { BAE_PRESETS } from './presets.js';
import { decoderRef, embedRef, encoderRef, maxAbsDiff, probabilitiesRef, type Img } from './test/reference.js';
import { onnxEngine, tfjsEngine } from './test/engines.js';

// Small config exercising every block: channel changes, attention inside the level loop and in the middle,
// grayscale input, a non-square image, and GroupNorm with 4 groups over 8/16 channels.
const cfg: BaeConfig = validateConfig({
  nf: 8,
  chMult: [1, 2, 1],
  resBlocks: 1,
  attnResolutions: [8],
  embDim: 8,
  codeDim: 5,
  inChannels: 1,
  resolution: 16,
  normFirst: true,
  normGroups: 4,
  normEps: 1e-6,
});

/** Random weights with GroupNorm weights near 1, so activations stay O(1). */
function randomParams(seed: number): Map<string, CpuTensor> {
  const rng = createRng(seed);
  const params = initBaeParameters(cfg, rng);
  for (const [name, t] of params) {
    const d = t.data as Float32Array;
    if (/norm|blocks\.\d+\.(weight|bias)$/.test(name) && t.shape.length === 1)
      for (let i = 0; i < d.length; i++) d[i] = (name.endsWith('weight') ? 1 : 0) + 0.2 * rng.normal();
  }
  return params;
}

describe('block plans (docs/algorithm.md §1.3, §1.5)', () => {
  it('reproduces the released 256-px block lists and parameter count', () => {
    const c = BAE_PRESETS['bae-256-d24'];
    const enc = encoderPlan(c)
      .map((b) => b.kind[0])
      .join('');
    // 0 conv | 1-2 Res | 3 Down | 4-5 Res | 6 Down | 7-8 Res | 9 Down | 10-11 Res | 12 Down | 13 R 14 A 15 R 16 A | 17 R 18 A 19 R | 20 GN | 21 conv
    expect(enc).toBe('CRRDRRDRRDRRDRARARARGC');
    const dec = decoderPlan(c)
      .map((b) => b.kind[0])
      .join('');
    // 0 GN | 1 conv | 2 R 3 A 4 R | 5 R 6 A 7 R 8 A 9 Up | 10-11 R 12 Up | 13-14 R 15 Up | 16-17 R 18 Up | 19-20 R | 21 GN | 22 conv
    expect(dec).toBe('GCRARRARAURRURRURRURRGC');
    expect(encoderPlan(c)[7]).toMatchObject({ kind: 'ResBlock', inChannels: 128, outChannels: 256 });
    expect(decoderPlan(c)[10]).toMatchObject({ kind: 'ResBlock', inChannels: 512, outChannels: 256 });
    expect(countParameters(c, { includeUnused: true })).toBe(65_530_654);
  });

  it('drops the 16-px attention blocks at 512 px', () => {
    const c = BAE_PRESETS['bae-512-d32'];
    expect(
      encoderPlan(c)
        .map((b) => b.kind[0])
        .join(''),
    ).toBe('CRRDRRDRRDRRDRRRARGC');
    expect(
      decoderPlan(c)
        .map((b) => b.kind[0])
        .join(''),
    ).toBe('GCRARRRURRURRURRURRGC');
    expect(countParameters(c, { includeUnused: true })).toBe(61_328_166);
  });

  it('matches the official tiny configuration key set and parameter count', () => {
    const c = BAE_PRESETS['official-tiny'];
    expect(countParameters(c, { includeUnused: true })).toBe(491_702);
    const shapes = baeParameterShapes(c, { includeUnused: true });
    expect(shapes.get('encoder.blocks.7.conv_out.weight')).toEqual([32, 64, 1, 1]);
    expect(shapes.get('generator.blocks.14.weight')).toEqual([3, 32, 3, 3]);
    expect(shapes.get('quantize.embed.weight')).toEqual([16, 32]);
  });
});

function toImg(data: Float32Array, offset: number, c: number, h: number, w: number): Img {
  return { c, h, w, data: Float64Array.from(data.subarray(offset, offset + c * h * w)) };
}

describe('forward pass against the naive float64 reference', () => {
  const H = 16;
  const W = 32; // non-square, multiple of the factor 4
  const params = randomParams(7);
  const rng = createRng(11);
  const B = 2;
  const images = new CpuTensor(rng.uniformsF32(B * 1 * H * W), [B, 1, H, W]);

  for (const engineName of ['tfjs', 'onnx'] as const) {
    it(`encoder and decoder on ${engineName} agree with the reference (per block)`, async () => {
      const engine = engineName === 'tfjs' ? await tfjsEngine() : await onnxEngine();
      const enc = await engine.compile(encoderGraph(cfg, H, W, { withFeatures: true, withBlocks: true }), params);
      const out = await enc.run({ image: images });
      expect(out['probabilities']?.shape).toEqual([B, (H / 4) * (W / 4), 5]);
      expect(out['enc_out']?.shape).toEqual([B, 8, H / 4, W / 4]);
      for (let b = 0; b < B; b++) {
        const ref = encoderRef(toImg(images.data as Float32Array, b * H * W, 1, H, W), params, cfg);
        const plan = encoderPlan(cfg);
        expect(ref.outputs).toHaveLength(plan.length);
        for (const [i, spec] of plan.entries()) {
          const name = `enc${String(i).padStart(2, '0')}_${spec.kind}`;
          const t = required(out[name], name);
          const r = at(ref.outputs, i, 'reference block output');
          const per = t.size / B;
          expect(t.shape.slice(1)).toEqual([r.c, r.h, r.w]);
          expect(maxAbsDiff((t.data as Float32Array).subarray(b * per, (b + 1) * per), r.data)).toBeLessThan(1e-4);
        }
        const prob = probabilitiesRef(ref.out, params, cfg);
        const hw = (H / 4) * (W / 4);
        const got = required(out['probabilities'], 'probabilities').data as Float32Array;
        // token layout [B, N, K]: element (n, k) = prob[k, n]
        let m = 0;
        for (let n = 0; n < hw; n++)
          for (let k = 0; k < 5; k++)
            m = Math.max(m, Math.abs(at(got, (b * hw + n) * 5 + k, 'probability') - at(prob.data, k * hw + n, 'reference probability')));
        expect(m).toBeLessThan(1e-5);
      }
      await enc.dispose();

      const dec = await engine.compile(decoderGraph(cfg, H, W, { withQuant: true, withBlocks: true }), params);
      const hw = (H / 4) * (W / 4);
      const bits = new Float32Array(B * hw * 5).map(() => (rng.uniform() < 0.5 ? 1 : 0));
      const dout = await dec.run({ bits: new CpuTensor(bits, [B, hw, 5]) });
      expect(dout['image']?.shape).toEqual([B, 1, H, W]);
      for (let b = 0; b < B; b++) {
        const codes = new Float64Array(5 * hw);
        for (let n = 0; n < hw; n++) for (let k = 0; k < 5; k++) codes[k * hw + n] = at(bits, (b * hw + n) * 5 + k, 'bit');
        const quant = embedRef({ c: 5, h: H / 4, w: W / 4, data: codes }, params, cfg);
        const ref = decoderRef(quant, params, cfg);
        const plan = decoderPlan(cfg);
        expect(ref.outputs).toHaveLength(plan.length);
        for (const [i, spec] of plan.entries()) {
          const name = `gen${String(i).padStart(2, '0')}_${spec.kind}`;
          const t = required(dout[name], name);
          const per = t.size / B;
          expect(maxAbsDiff((t.data as Float32Array).subarray(b * per, (b + 1) * per), at(ref.outputs, i, 'reference block output').data)).toBeLessThan(2e-4);
        }
        const per = H * W;
        expect(maxAbsDiff((required(dout['image'], 'image').data as Float32Array).subarray(b * per, (b + 1) * per), ref.out.data)).toBeLessThan(1e-4);
      }
      await dec.dispose();
    });
  }
});
