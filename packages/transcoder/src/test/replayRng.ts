/**
 * Test helper: an {@link Rng} that replays recorded float32 uniforms call by call (the fixture convention).
 */
import type { Rng, RngState } from '@bigr/core';

/** Replays `chunks[i]` on the i-th `uniformsF32` call; every other method throws. */
export class ReplayRng implements Rng {
  #i = 0;
  constructor(private readonly chunks: readonly Float32Array[]) {}
  /** Number of chunks consumed. */
  get consumed(): number {
    return this.#i;
  }
  uniformsF32(n: number): Float32Array {
    const c = this.chunks[this.#i++];
    if (!c) throw new Error(`ReplayRng: call ${this.#i} has no recorded uniforms`);
    if (c.length !== n) throw new Error(`ReplayRng: call ${this.#i} asked for ${n} uniforms but ${c.length} were recorded`);
    return c.slice();
  }
  uniform(): number {
    throw new Error('ReplayRng.uniform not recorded');
  }
  normal(): number {
    throw new Error('ReplayRng.normal not recorded');
  }
  normalsF32(): Float32Array {
    throw new Error('ReplayRng.normalsF32 not recorded');
  }
  bernoulli(): 0 | 1 {
    throw new Error('ReplayRng.bernoulli not recorded');
  }
  gumbels(): Float64Array {
    throw new Error('ReplayRng.gumbels not recorded');
  }
  int(): number {
    throw new Error('ReplayRng.int not recorded');
  }
  fork(): Rng {
    throw new Error('ReplayRng.fork not supported');
  }
  getState(): RngState {
    return { algorithm: 'replay', words: [this.#i] };
  }
  setState(state: RngState): void {
    this.#i = state.words[0] ?? 0;
  }
}
