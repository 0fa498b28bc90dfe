/** A small local head implementing core's BitHeadLoss for tests: linear D→K logits, weighted BCE on masked rows. */
import { CpuTensor, bceWithLogits, dims2, required, type BitHeadLoss, type InputSpec, type NamedTensors, type Ops, type Rng } from '@bigr/core';

/** Linear BCE head with a per-row random weight input (exercises sampleLossInputs). */
export function linearBceHead(dim: number, bits: number): BitHeadLoss {
  const weightName = 'denoise_mlp.linear.weight';
  const biasName = 'denoise_mlp.linear.bias';
  const names = [weightName, biasName];
  const lossInputs: InputSpec[] = [{ name: 'row_weight', dtype: 'float32', shape: ['rows'] }];
  return {
    lossInputs,
    parameterNames: names,
    sampleLossInputs(targets: CpuTensor<'float32'>, rng: Rng) {
      const [R] = dims2(targets.shape, 'targets');
      const u = rng.uniformsF32(R).map((v) => 0.5 + v);
      return { row_weight: new CpuTensor(u, [R]) };
    },
    lossGraph<T>(ops: Ops<T>, features: T, targets: T, rowMask: T, inputs: Readonly<Record<string, T>>) {
      const logits = ops.add(ops.matMul(features, ops.param(weightName), false, true), ops.param(biasName));
      const perRow = ops.mean(bceWithLogits(ops, logits, targets), [1], false);
      const w = ops.mul(rowMask, required(inputs['row_weight'], 'loss input row_weight'));
      const loss = ops.div(ops.sum(ops.mul(perRow, w), [0], false), ops.sum(rowMask, [0], false));
      return { loss, metrics: { maskedRows: ops.sum(rowMask, [0], false) } };
    },
    initParameters(rng: Rng): NamedTensors {
      const wt = rng.normalsF32(bits * dim).map((v) => 0.02 * v);
      return new Map([
        [weightName, new CpuTensor(wt, [bits, dim])],
        [biasName, new CpuTensor(new Float32Array(bits), [bits])],
      ]);
    },
  };
}
