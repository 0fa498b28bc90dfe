import { NotFoundError, ShapeError } from './errors.js';
import { checkAssignment, completeGradients } from './trainableParameters.js';

const params = new Map([
  ['fc.weight', { size: 6, shape: [2, 3] }],
  ['fc.bias', { size: 2, shape: [2] }],
]);

describe('checkAssignment', () => {
  it('accepts arrays of every parameter’s element count', () => {
    expect(() => checkAssignment(new Map([['fc.bias', new Float32Array(2)]]), params)).not.toThrow();
  });

  it('rejects an unknown name with similar names, and a wrong length with the shape', () => {
    expect(() => checkAssignment(new Map([['fc.bais', new Float32Array(2)]]), params)).toThrow(NotFoundError);
    expect(() => checkAssignment(new Map([['fc.bais', new Float32Array(2)]]), params)).toThrow(/Similar names: "fc.bias"/);
    expect(() => checkAssignment(new Map([['fc.weight', new Float32Array(5)]]), params)).toThrow(ShapeError);
    expect(() => checkAssignment(new Map([['fc.weight', new Float32Array(5)]]), params)).toThrow(/6 elements \(shape \[2, 3\]\) but 5 values/);
  });
});

describe('completeGradients', () => {
  it('keeps given gradients and fills zeros of the right size for the rest, in parameter order', () => {
    const g = Float32Array.of(1, -2);
    const out = completeGradients(params, new Map([['fc.bias', g]]));
    expect([...out.keys()]).toEqual(['fc.weight', 'fc.bias']);
    expect(out.get('fc.bias')).toBe(g);
    expect(Array.from(out.get('fc.weight') ?? [])).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
