import { at } from '@bigr/core';
import type { Rng, RngState } from '@bigr/core';

/**
 * A tiny seeded Rng (mulberry32) for these tests only, until core's `createRng` is exported. Not the
 * project's reference generator: its streams differ from core's.
 */
export class TestRng implements Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  #next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  uniform(): number {
    return this.#next() / 2 ** 32;
  }
  uniformsF32(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.#next() >>> 8) / 2 ** 24;
    return out;
  }
  normal(): number {
    const u = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  normalsF32(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
  bernoulli(p: number): 0 | 1 {
    return at(this.uniformsF32(1), 0) < p ? 1 : 0;
  }
  gumbels(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = -Math.log(-Math.log(1 - this.uniform()));
    return out;
  }
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
  fork(label: string | number): Rng {
    let h = this.#s ^ 0x9e3779b9;
    for (const ch of String(label)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    return new TestRng(h);
  }
  getState(): RngState {
    return { algorithm: 'test-mulberry32', words: [this.#s] };
  }
  setState(state: RngState): void {
    this.#s = at(state.words, 0, 'RNG state word') >>> 0;
  }
  /** `n` float32 values uniform in [lo, hi). */
  floats(n: number, lo = -1, hi = 1): Float32Array {
    const u = this.uniformsF32(n);
    for (const [i, v] of u.entries()) u[i] = lo + (hi - lo) * v;
    return u;
  }
}
