import { ShapeError } from './errors.js';
import { InvariantError, at, dims2, dims3, dims4, getOrThrow, lastDim, required } from './invariants.js';

describe('invariants', () => {
  it('at returns the element inside the bounds and names the index outside them', () => {
    const a = new Float32Array([1.5, -2]);
    expect(at(a, 1)).toBe(-2);
    expect(at([0], 0)).toBe(0);
    expect(() => at(a, 2, 'logits')).toThrow(new InvariantError('logits: index 2 is outside [0, 2) (an internal bug; please report it).'));
    expect(() => at(a, -1)).toThrow(InvariantError);
  });

  it('required and getOrThrow keep falsy values and reject missing ones', () => {
    expect(required(0, 'count')).toBe(0);
    expect(required('', 'name')).toBe('');
    expect(() => required(null, 'the loss')).toThrow('the loss is missing');
    const m = new Map<string, number>([['w', 0]]);
    expect(getOrThrow(m, 'w')).toBe(0);
    expect(() => getOrThrow(m, 'b', 'parameter')).toThrow('parameter "b" is missing');
  });

  it('dims checks the rank and returns the dimensions', () => {
    expect(dims2([3, 4])).toEqual([3, 4]);
    expect(dims3([1, 2, 3])).toEqual([1, 2, 3]);
    expect(dims4([1, 2, 3, 4])).toEqual([1, 2, 3, 4]);
    expect(() => dims4([1, 2, 3], 'image')).toThrow(new ShapeError('image must have rank 4 but has shape [1, 2, 3].'));
    expect(lastDim([2, 7])).toBe(7);
    expect(() => lastDim([], 'bits')).toThrow('bits must have rank ≥ 1 but is a scalar.');
  });
});
