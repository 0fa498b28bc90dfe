import { at, CpuTensor, createRng } from '@bigr/core';
import type { NamedTensors } from '@bigr/core';
import { conditionGraph, denoiserParameterShapes, splitModulationParameters, stepGraph } from './denoiser.js';
import type { DenoiserSizes } from './denoiser.js';
import { named, onnxEngine, outputData } from './test/engines.js';

describe('step graph with split adaLN modulation', () => {
  it.each([
    { width: 64, blocks: 2, featureDim: 32, rows: 37 },
    { width: 256, blocks: 3, featureDim: 256, rows: 300 },
  ])('gives bit-identical logits on onnx-cpu (width $width, $rows rows)', async ({ width, blocks, featureDim, rows }) => {
    const sizes: DenoiserSizes = { bitsPerToken: 16, featureDim, width, blocks, prefix: 'denoise_mlp' };
    const rng = createRng(`split-${width}`);
    const params: NamedTensors = new Map();
    for (const [name, shape] of denoiserParameterShapes(sizes)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const scale = shape.length === 2 ? 1 / Math.sqrt(at(shape, 1, `input dimension of ${name}`)) : 0.1;
      params.set(
        name,
        new CpuTensor(
          rng.normalsF32(n).map((v) => v * scale),
          shape,
        ),
      );
    }
    const engine = await onnxEngine();
    const cond = await engine.compile(conditionGraph(sizes), params);
    const whole = await engine.compile(stepGraph(sizes), params);
    const split = await engine.compile(stepGraph(sizes, { splitModulation: true }), splitModulationParameters(params, sizes));
    try {
      const u = rng.uniformsF32(rows * 16);
      const x = new CpuTensor(
        Float32Array.from(u, (v) => (v < 0.5 ? 1 : 0)),
        [rows, 16],
      );
      const cEmb = named(await cond.run({ features: new CpuTensor(rng.normalsF32(rows * featureDim), [rows, featureDim]) }), 'c_emb');
      for (const t of [255, 100, 0]) {
        const tau = new CpuTensor(Float32Array.of(t), [1]);
        const a = outputData(await whole.run({ x_t: x, tau, c_emb: cEmb }), 'logits');
        const b = outputData(await split.run({ x_t: x, tau, c_emb: cEmb }), 'logits');
        expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength))).toBe(true);
      }
    } finally {
      await cond.dispose();
      await whole.dispose();
      await split.dispose();
    }
  });
});
