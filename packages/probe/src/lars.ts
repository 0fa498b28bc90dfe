/**
 * LARS as used by MoCo v3 / MAE linear probing (docs/evaluation.md §8.3): for tensors with ≥ 2 dims, add weight decay
 * then scale the gradient by η·‖p‖/‖g‖ (factor 1 if either norm is 0); every tensor then takes a heavy-ball
 * momentum step m ← μ·m + g, p ← p − lr·m.
 */
export interface LarsOptions {
  /** Momentum μ. Default 0.9. */
  momentum?: number;
  /** Weight decay (≥2-D tensors only). Default 0. */
  weightDecay?: number;
  /** Trust coefficient η. Default 0.001. */
  trustCoefficient?: number;
}

/** One parameter tensor handled by {@link Lars}. */
export interface LarsParameter {
  /** Values, updated in place. */
  readonly value: Float32Array;
  /** Number of dimensions (decides decay and trust scaling). */
  readonly rank: number;
}

/** LARS optimiser over Float32Array parameters; state (momentum buffers) is kept per parameter index. */
export class Lars {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly trustCoefficient: number;
  readonly #buffers: Float64Array[];

  /** Creates the optimiser for a fixed list of parameters. */
  constructor(readonly params: readonly LarsParameter[], options: LarsOptions = {}) {
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 0;
    this.trustCoefficient = options.trustCoefficient ?? 0.001;
    this.#buffers = params.map((p) => new Float64Array(p.value.length));
  }

  /** Applies one step with learning rate `lr` and gradients aligned with {@link Lars.params}. */
  step(grads: readonly Float32Array[] | readonly Float64Array[], lr: number): void {
    this.params.forEach((p, i) => {
      const g = grads[i]!;
      const m = this.#buffers[i]!;
      const w = p.value;
      if (g.length !== w.length) throw new RangeError(`LARS gradient ${i} has ${g.length} values but its parameter has ${w.length}.`);
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
        if (pn > 0 && gn > 0) scale = (this.trustCoefficient * Math.sqrt(pn)) / Math.sqrt(gn);
      }
      for (let j = 0; j < w.length; j++) {
        const gj = (g[j]! + decay * w[j]!) * scale;
        m[j] = this.momentum * m[j]! + gj;
        w[j] = w[j]! - lr * m[j]!;
      }
    });
  }
}
