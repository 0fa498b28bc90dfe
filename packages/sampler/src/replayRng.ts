/**
 * An {@link Rng} that replays recorded random streams, e.g. the official fixtures' `u_stream` and `gumbel_stream`.
 */
import { at, ConfigError } from '@bigr/core';
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
  const uniforms = replayQueue(streams.uniforms, 'uniform');
  const gumbels = replayQueue(streams.gumbels, 'Gumbel');
  const unsupported = (name: string): never => {
    throw new ConfigError(
      `Replay Rng cannot serve ${name}(): only uniformsF32, bernoulli and gumbels were recorded. Use createRng(seed) for free-running sampling.`,
    );
  };
  return {
    get uniformsLeft() {
      return uniforms.left;
    },
    get gumbelsLeft() {
      return gumbels.left;
    },
    uniformsF32(n: number): Float32Array {
      return uniforms.take(n);
    },
    bernoulli(p: number): 0 | 1 {
      const u = at(this.uniformsF32(1), 0, 'replayed uniform');
      return u < p ? 1 : 0;
    },
    gumbels(n: number): Float64Array {
      return gumbels.take(n);
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

/** One recorded stream, consumed front to back; running past its end throws a {@link ConfigError}. */
function replayQueue<A extends Float32Array | Float64Array>(values: A, kind: string): { take(n: number): A; readonly left: number } {
  let at = 0;
  return {
    take(n: number): A {
      if (at + n > values.length) {
        throw new ConfigError(
          `Replay ${kind} stream exhausted: ${n} requested at position ${at} of ${values.length}. Record a longer stream or check the call sequence.`,
        );
      }
      const out = values.slice(at, at + n) as A;
      at += n;
      return out;
    },
    get left() {
      return values.length - at;
    },
  };
}
