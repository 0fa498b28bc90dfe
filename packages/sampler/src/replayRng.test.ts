import { createReplayRng } from './replayRng.js';

describe('createReplayRng', () => {
  it('serves the two recorded streams independently and in order', () => {
    const rng = createReplayRng({ uniforms: Float32Array.of(0.1, 0.2, 0.3, 0.9), gumbels: Float64Array.of(1.5, -0.5) });
    expect(Array.from(rng.uniformsF32(2))).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(Array.from(rng.gumbels(1))).toEqual([1.5]);
    expect(rng.bernoulli(0.5)).toBe(1); // u = 0.3
    expect(rng.bernoulli(0.5)).toBe(0); // u = 0.9
    expect(rng.uniformsLeft).toBe(0);
    expect(rng.gumbelsLeft).toBe(1);
  });

  it('throws when a stream runs out or an unrecorded method is used', () => {
    const rng = createReplayRng({ uniforms: new Float32Array(1), gumbels: new Float64Array(0) });
    expect(() => rng.uniformsF32(2)).toThrow(/exhausted/);
    expect(() => rng.gumbels(1)).toThrow(/exhausted/);
    expect(() => rng.uniform()).toThrow(/only uniformsF32/);
    expect(() => rng.normalsF32(3)).toThrow(/only uniformsF32/);
    expect(() => rng.fork('x')).toThrow(/only uniformsF32/);
  });
});
