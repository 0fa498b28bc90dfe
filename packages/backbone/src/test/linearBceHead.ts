/** A small local head implementing core's BitHeadLoss for tests: linear D→K logits, weighted BCE on masked rows. */
import { CpuTensor, bceWithLogits, type BitHeadLoss, type InputSpec, type NamedTensors, type Ops, type Rng } from '@bigr/core';

/** Linear BCE head with a per-row random weight input (exercises sampleLossInputs). */
export function linearBceHead(dim: number, bits: number): BitHeadLoss {
  const names = ['denoise_mlp.linear.weight', 'denoise_mlp.linear.bias'];
  const lossInputs: InputSpec[] = [{ name: 'row_weight', dtype: 'float32', shape: ['rows'] }];
  return {
    lossInputs,
    parameterNames: names,
    sampleLossInputs(targets: CpuTensor<'float32'>, rng: Rng) {
      const R = targets.shape[0]!;
      const u = rng.uniformsF32(R).map((v) => 0.5 + v);
      return { row_weight: new CpuTensor(u, [R]) };
    },
    lossGraph<T>(ops: Ops<T>, features: T, targets: T, rowMask: T, inputs: Readonly<Record<string, T>>) {
      const logits = ops.add(ops.matMul(features, ops.param(names[0]!), false, true), ops.param(names[1]!));
      const perRow = ops.mean(bceWithLogits(ops, logits, targets), [1], false);
      const w = ops.mul(rowMask, inputs['row_weight']!);
      const loss = ops.div(ops.sum(ops.mul(perRow, w), [0], false), ops.sum(rowMask, [0], false));
      return { loss, metrics: { maskedRows: ops.sum(rowMask, [0], false) } };
    },
    initParameters(rng: Rng): NamedTensors {
      const wt = rng.normalsF32(bits * dim).map((v) => 0.02 * v);
      return new Map([
        [names[0]!, new CpuTensor(wt, [bits, dim])],
        [names[1]!, new CpuTensor(new Float32Array(bits), [bits])],
      ]);
    },
  };
}
