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
import { createRng, required, type Rng } from '@bigr/core';
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
      const g = required(grads[i], 'gradient');
      const m = required(this.#buffers[i], 'momentum buffer');
      const w = p.value;
      let scale = 1;
      const decay = p.rank >= 2 ? this.weightDecay : 0;
      if (p.rank >= 2) {
        let pn = 0;
        let gn = 0;
        for (let j = 0; j < w.length; j++) {
          const gj = required(g[j], 'gradient') + decay * required(w[j], 'parameter');
          pn += required(w[j], 'parameter') * required(w[j], 'parameter');
          gn += gj * gj;
        }
        if (pn > 0 && gn > 0) scale = (this.trust * Math.sqrt(pn)) / Math.sqrt(gn);
      }
      for (let j = 0; j < w.length; j++) {
        m[j] = this.momentum * required(m[j], 'momentum buffer') + (required(g[j], 'gradient') + decay * required(w[j], 'parameter')) * scale;
        w[j] = required(w[j], 'parameter') - lr * required(m[j], 'momentum buffer');
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
    for (let r = 0; r < batch; r++)
      for (let j = 0; j < dim; j++)
        mean[j] = required(mean[j], 'mean') + required(train.features[required(order[micro * batch + r], 'shuffled row') * dim + j], 'feature');
    for (let j = 0; j < dim; j++) mean[j] = required(mean[j], 'mean') / batch;
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < dim; j++) {
        const c = required(train.features[required(order[micro * batch + r], 'shuffled row') * dim + j], 'feature') - required(mean[j], 'mean');
        ss[j] = required(ss[j], 'sum of squares') + c * c;
      }
    }
    const xhat = new Float64Array(batch * dim);
    for (let j = 0; j < dim; j++) {
      runningMean[j] = (1 - momentum) * required(runningMean[j], 'runningMean') + momentum * required(mean[j], 'mean');
      runningVar[j] = (1 - momentum) * required(runningVar[j], 'runningVar') + (momentum * required(ss[j], 'sum of squares')) / (batch - 1);
      const inv = 1 / Math.sqrt(required(ss[j], 'sum of squares') / batch + eps);
      for (let r = 0; r < batch; r++)
        xhat[r * dim + j] =
          (required(train.features[required(order[micro * batch + r], 'shuffled row') * dim + j], 'feature') - required(mean[j], 'mean')) * inv;
    }
    return xhat;
  };

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = shuffleRng.int(i + 1);
      const t = required(order[i], 'shuffled row');
      order[i] = required(order[j], 'shuffled row');
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
            let v = required(bias[c], 'bias');
            for (let j = 0; j < dim; j++) v += required(xhat[r * dim + j], 'normalised feature') * required(weight[c * dim + j], 'weight');
            logits[c] = v;
            mx = Math.max(mx, v);
          }
          let z = 0;
          for (const v of logits) z += Math.exp(v - mx);
          const label = required(train.labels[required(order[micro * batch + r], 'shuffled row')], 'label');
          loss += (Math.log(z) + mx - required(logits[label], 'logit')) / (batch * accum);
          for (let c = 0; c < classes; c++) {
            const d = (Math.exp(required(logits[c], 'logit') - mx) / z - (c === label ? 1 : 0)) / (batch * accum);
            gB[c] = required(gB[c], 'bias gradient') + d;
            for (let j = 0; j < dim; j++)
              gW[c * dim + j] = required(gW[c * dim + j], 'weight gradient') + d * required(xhat[r * dim + j], 'normalised feature');
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
          let v = required(bias[c], 'bias');
          for (let j = 0; j < dim; j++)
            v +=
              ((required(features[i * dim + j], 'feature') - required(runningMean[j], 'runningMean')) /
                Math.sqrt(required(runningVar[j], 'runningVar') + eps)) *
              required(weight[c * dim + j], 'weight');
          out[i * classes + c] = v;
        }
      }
      return out;
    },
  };
}
