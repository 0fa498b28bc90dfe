/**
 * For the tests: an {@link Rng} that replays recorded float32 uniforms one recorded chunk per call, checking each call
 * asks for exactly its chunk (the transcoder fixtures record the uniforms of every diffusion step separately). The
 * sampler's `createReplayRng` replays one flat stream instead.
 */
import type { Rng, RngState } from '@bigr/core';

/** Replays `chunks[i]` on the i-th `uniformsF32` call; every other method throws. */
export class ChunkReplayRng implements Rng {
  #i = 0;
  constructor(private readonly chunks: readonly Float32Array[]) {}
  /** Number of chunks consumed. */
  get consumed(): number {
    return this.#i;
  }
  uniformsF32(n: number): Float32Array {
    const c = this.chunks[this.#i++];
    if (!c) throw new Error(`ChunkReplayRng: call ${this.#i} has no recorded uniforms`);
    if (c.length !== n) throw new Error(`ChunkReplayRng: call ${this.#i} asked for ${n} uniforms but ${c.length} were recorded`);
    return c.slice();
  }
  uniform(): number {
    throw new Error('ChunkReplayRng.uniform not recorded');
  }
  normal(): number {
    throw new Error('ChunkReplayRng.normal not recorded');
  }
  normalsF32(): Float32Array {
    throw new Error('ChunkReplayRng.normalsF32 not recorded');
  }
  bernoulli(): 0 | 1 {
    throw new Error('ChunkReplayRng.bernoulli not recorded');
  }
  gumbels(): Float64Array {
    throw new Error('ChunkReplayRng.gumbels not recorded');
  }
  int(): number {
    throw new Error('ChunkReplayRng.int not recorded');
  }
  fork(): Rng {
    throw new Error('ChunkReplayRng.fork not supported');
  }
  getState(): RngState {
    return { algorithm: 'replay', words: [this.#i] };
  }
  setState(state: RngState): void {
    this.#i = state.words[0] ?? 0;
  }
}
