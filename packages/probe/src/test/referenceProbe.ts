/**
 * Test-only: the former hand-written JS linear probe (before training moved onto Ops and the core Trainer), kept as an
 * independent float64 reference. Same algorithm as docs/evaluation.md §8.2–8.4: BatchNorm1d(affine=false) with batch
 * statistics and running statistics, Linear, softmax cross-entropy with an analytic gradient, the old array-based
 * LARS, warm-up + cosine per optimiser step, drop-last batches reshuffled every epoch. Two things follow the new
 * probe so the two can be compared draw for draw: after the head's initialisation one `rng.int(2^32)` seeds the
 * shuffle stream, and with gradient accumulation the micro-batches after the last full window of an epoch are
 * discarded (MAE zeroes their gradients) but still update the running statistics. Everything is float64 (the old
 * probe stored the head in float32).
 */
import { createRng, type Rng } from '@bigr/core';
import { probeLearningRate } from '../probeSchedule.js';

/** The old array-based LARS (MoCo v3/MAE variant) with float64 momentum buffers. */
class ReferenceLars {
  readonly #buffers: Float64Array[];
  constructor(
    readonly params: readonly { value: Float64Array | Float32Array; rank: number }[],
    readonly momentum = 0.9,
    readonly trust = 0.001,
    readonly weightDecay = 0,
  ) {
    this.#buffers = params.map((p) => new Float64Array(p.value.length));
  }
  step(grads: readonly Float64Array[], lr: number): void {
    this.params.forEach((p, i) => {
      const g = grads[i]!;
      const m = this.#buffers[i]!;
      const w = p.value;
      let scale = 1;
      const decay = p.rank >= 2 ? this.weightDecay : 0;
      if (p.rank >= 2) {
        let pn = 0;
        let gn = 0;
        for (let j = 0; j < w.length; j++) {
          const gj = g[j]! + decay * w[j]!;
          pn += w[j]! * w[j]!;
          gn += gj * gj;
        }
        if (pn > 0 && gn > 0) scale = (this.trust * Math.sqrt(pn)) / Math.sqrt(gn);
      }
      for (let j = 0; j < w.length; j++) {
        m[j] = this.momentum * m[j]! + (g[j]! + decay * w[j]!) * scale;
        w[j] = w[j]! - lr * m[j]!;
      }
    });
  }
}

/** Result of {@link referenceLinearProbe}. */
export interface ReferenceProbe {
  weight: Float64Array;
  bias: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
  /** Mean training loss of every optimiser step. */
  losses: number[];
  /** Eval-mode logits [n, classes]. */
  logits(features: Float32Array, n: number): Float64Array;
}

/** Settings of {@link referenceLinearProbe} (defaults as the probe's). */
export interface ReferenceProbeOptions {
  rng: Rng;
  classes: number;
  epochs: number;
  warmupEpochs: number;
  batchSize: number;
  accumulationSteps?: number;
  peakLr: number;
  weightDecay?: number;
}

/** Trains the probe in float64 (see the file comment). */
export function referenceLinearProbe(train: { features: Float32Array; labels: Int32Array; dim: number }, o: ReferenceProbeOptions): ReferenceProbe {
  const { rng, classes, epochs, warmupEpochs: warmup, batchSize: batch, peakLr: peak } = o;
  const accum = o.accumulationSteps ?? 1;
  const dim = train.dim;
  const n = train.labels.length;
  const eps = 1e-6;
  const momentum = 0.1;
  const weight = new Float64Array(classes * dim);
  for (let i = 0; i < weight.length; i++) {
    let v: number;
    do v = rng.normal() * 0.01;
    while (v < -2 || v > 2);
    weight[i] = Math.fround(v);
  }
  const bias = new Float64Array(classes);
  const shuffleRng = createRng(rng.int(0x100000000));
  const runningMean = new Float64Array(dim);
  const runningVar = new Float64Array(dim).fill(1);
  const lars = new ReferenceLars(
    [
      { value: weight, rank: 2 },
      { value: bias, rank: 1 },
    ],
    0.9,
    0.001,
    o.weightDecay ?? 0,
  );
  const perEpoch = Math.floor(n / batch);
  const stepsPerEpoch = Math.floor(perEpoch / accum);
  const order = new Int32Array(n);
  const losses: number[] = [];

  /** BN in training mode on micro-batch `micro`: updates running stats, returns x̂ [batch, dim]. */
  const bnTrain = (micro: number): Float64Array => {
    const mean = new Float64Array(dim);
    const ss = new Float64Array(dim);
    for (let r = 0; r < batch; r++) for (let j = 0; j < dim; j++) mean[j]! += train.features[order[micro * batch + r]! * dim + j]!;
    for (let j = 0; j < dim; j++) mean[j]! /= batch;
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < dim; j++) {
        const c = train.features[order[micro * batch + r]! * dim + j]! - mean[j]!;
        ss[j]! += c * c;
      }
    }
    const xhat = new Float64Array(batch * dim);
    for (let j = 0; j < dim; j++) {
      runningMean[j] = (1 - momentum) * runningMean[j]! + momentum * mean[j]!;
      runningVar[j] = (1 - momentum) * runningVar[j]! + (momentum * ss[j]!) / (batch - 1);
      const inv = 1 / Math.sqrt(ss[j]! / batch + eps);
      for (let r = 0; r < batch; r++) xhat[r * dim + j] = (train.features[order[micro * batch + r]! * dim + j]! - mean[j]!) * inv;
    }
    return xhat;
  };

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = shuffleRng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let s = 0; s < stepsPerEpoch; s++) {
      const lr = probeLearningRate(epoch + (s * accum) / perEpoch, peak, warmup, epochs);
      const gW = new Float64Array(classes * dim);
      const gB = new Float64Array(classes);
      let loss = 0;
      for (let g = 0; g < accum; g++) {
        const micro = s * accum + g;
        const xhat = bnTrain(micro);
        for (let r = 0; r < batch; r++) {
          const logits = new Float64Array(classes);
          let mx = -Infinity;
          for (let c = 0; c < classes; c++) {
            let v = bias[c]!;
            for (let j = 0; j < dim; j++) v += xhat[r * dim + j]! * weight[c * dim + j]!;
            logits[c] = v;
            mx = Math.max(mx, v);
          }
          let z = 0;
          for (const v of logits) z += Math.exp(v - mx);
          const label = train.labels[order[micro * batch + r]!]!;
          loss += (Math.log(z) + mx - logits[label]!) / (batch * accum);
          for (let c = 0; c < classes; c++) {
            const d = (Math.exp(logits[c]! - mx) / z - (c === label ? 1 : 0)) / (batch * accum);
            gB[c]! += d;
            for (let j = 0; j < dim; j++) gW[c * dim + j]! += d * xhat[r * dim + j]!;
          }
        }
      }
      lars.step([gW, gB], lr);
      losses.push(loss);
    }
    for (let micro = stepsPerEpoch * accum; micro < perEpoch; micro++) bnTrain(micro);
  }
  return {
    weight,
    bias,
    runningMean,
    runningVar,
    losses,
    logits: (features, count) => {
      const out = new Float64Array(count * classes);
      for (let i = 0; i < count; i++) {
        for (let c = 0; c < classes; c++) {
          let v = bias[c]!;
          for (let j = 0; j < dim; j++) v += ((features[i * dim + j]! - runningMean[j]!) / Math.sqrt(runningVar[j]! + eps)) * weight[c * dim + j]!;
          out[i * classes + c] = v;
        }
      }
      return out;
    },
  };
}
