/**
 * The seeded random number generator every package uses. Randomness is always passed explicitly as an
 * `Rng` argument; the same seed gives the same bits on every engine and platform (integer arithmetic only).
 */
export interface Rng {
  /** Uniform float64 in [0, 1). */
  uniform(): number;
  /** `n` uniforms in [0, 1), each exactly representable in float32 (24-bit resolution). */
  uniformsF32(n: number): Float32Array;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** `n` standard normals as float32. */
  normalsF32(n: number): Float32Array;
  /** 1 with probability p, else 0; uses one float32 uniform u and returns u < p (the fixture convention). */
  bernoulli(p: number): 0 | 1;
  /** `n` standard Gumbel draws −log(−log U), float64. */
  gumbels(n: number): Float64Array;
  /** Integer uniform in [0, n). */
  int(n: number): number;
  /** An independent stream derived from this one's seed and `label`; does not advance this stream. */
  fork(label: string | number): Rng;
  /** Serialisable state, for checkpoints. */
  getState(): RngState;
  /** Restores a state from {@link Rng.getState}. */
  setState(state: RngState): void;
}

/** JSON-serialisable RNG state. */
export interface RngState {
  /** Algorithm identifier. */
  readonly algorithm: string;
  /** Opaque words of state. */
  readonly words: readonly number[];
}
