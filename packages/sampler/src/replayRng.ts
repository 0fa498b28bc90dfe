/**
 * An {@link Rng} that replays recorded random streams, e.g. the official fixtures' `u_stream` and `gumbel_stream`.
 */
import { ConfigError } from '@bigr/core';
import type { Rng, RngState } from '@bigr/core';

/** Recorded streams for {@link createReplayRng}. */
export interface ReplayStreams {
  /** Float32 uniforms in [0, 1), consumed in order by `uniformsF32` (and `bernoulli`). */
  readonly uniforms: Float32Array;
  /** Standard Gumbel draws, consumed in order by `gumbels`. */
  readonly gumbels: Float64Array;
}

/** A replaying {@link Rng} that also reports how much of each stream is left. */
export interface ReplayRng extends Rng {
  /** Uniforms not yet consumed. */
  readonly uniformsLeft: number;
  /** Gumbel draws not yet consumed. */
  readonly gumbelsLeft: number;
}

/**
 * Builds an {@link Rng} whose `uniformsF32(n)` returns the next `n` recorded uniforms and `gumbels(n)` the next `n`
 * recorded Gumbel values (two independent queues, like torch's and NumPy's generators in the official code).
 * `bernoulli(p)` consumes one uniform and returns `u < p` (the fixture convention). Every other method throws a
 * {@link ConfigError}: the replayed code path must not draw anything that was not recorded. Running past the end
 * of a stream throws too.
 */
export function createReplayRng(streams: ReplayStreams): ReplayRng {
  const { uniforms, gumbels } = streams;
  let ui = 0;
  let gi = 0;
  const unsupported = (name: string): never => {
    throw new ConfigError(`Replay Rng cannot serve ${name}(): only uniformsF32, bernoulli and gumbels were recorded. Use createRng(seed) for free-running sampling.`);
  };
  return {
    get uniformsLeft() {
      return uniforms.length - ui;
    },
    get gumbelsLeft() {
      return gumbels.length - gi;
    },
    uniformsF32(n: number): Float32Array {
      if (ui + n > uniforms.length) {
        throw new ConfigError(`Replay uniform stream exhausted: ${n} requested at position ${ui} of ${uniforms.length}. Record a longer stream or check the call sequence.`);
      }
      const out = uniforms.slice(ui, ui + n);
      ui += n;
      return out;
    },
    bernoulli(p: number): 0 | 1 {
      const u = this.uniformsF32(1)[0]!;
      return u < p ? 1 : 0;
    },
    gumbels(n: number): Float64Array {
      if (gi + n > gumbels.length) {
        throw new ConfigError(`Replay Gumbel stream exhausted: ${n} requested at position ${gi} of ${gumbels.length}. Record a longer stream or check the call sequence.`);
      }
      const out = gumbels.slice(gi, gi + n);
      gi += n;
      return out;
    },
    uniform: () => unsupported('uniform'),
    normal: () => unsupported('normal'),
    normalsF32: () => unsupported('normalsF32'),
    int: () => unsupported('int'),
    fork: () => unsupported('fork'),
    getState: (): RngState => unsupported('getState'),
    setState: () => unsupported('setState'),
  };
}
