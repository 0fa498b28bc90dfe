import { at, type CpuTensor } from '@bigr/core';
import { buildOnnxModel, loadOrt } from '@bigr/engine-onnx';
import { presetConfig } from './presets.js';
import { backboneGraph } from './backboneGraph.js';
import { named, readFixture, tensorNamed } from './test/helpers.js';

describe('ONNX export of the inference forward', () => {
  it('the exported model (bytes) runs in a plain onnxruntime session and reproduces cond_logits', async () => {
    const config = presetConfig('BiGR-tiny');
    const weights = await readFixture('tiny_transformer_weights.safetensors');
    const fx = await readFixture('backbone.safetensors');
    const bytes = buildOnnxModel(backboneGraph(config), weights);
    expect(bytes.length).toBeGreaterThan(4 * 160_000);
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(session.inputNames).toEqual(['bits', 'mask', 'labels']);
      const codes = tensorNamed(fx, 'codes') as CpuTensor<'float32'>;
      const out = await session.run({
        bits: new ort.Tensor('float32', codes.data, [4, 16, 16]),
        mask: new ort.Tensor('float32', Float32Array.from(tensorNamed(fx, 'token_mask').data), [4, 16]),
        labels: new ort.Tensor('int32', tensorNamed(fx, 'labels').data as Int32Array, [4]),
      });
      const got = named(out, 'features').data as Float32Array;
      const want = tensorNamed(fx, 'cond_logits').data as Float32Array;
      let worst = 0;
      expect(got).toHaveLength(want.length);
      for (const [i, w] of want.entries()) worst = Math.max(worst, Math.abs(at(got, i, 'feature') - w));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });
});
