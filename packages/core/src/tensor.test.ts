import { CpuTensor, isTensor, shapeSize, ShapeError } from './index.js';

describe('CpuTensor', () => {
  it('wraps typed arrays and checks the element count', () => {
    const t = new CpuTensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.size).toBe(6);
    expect(isTensor(t)).toBe(true);
    expect(() => new CpuTensor(new Float32Array(5), [2, 3])).toThrow(ShapeError);
    expect(() => shapeSize([2, -1])).toThrow(/-1/);
  });
  it('dispose makes data inaccessible', () => {
    const t = CpuTensor.zeros('int32', [3]);
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(() => t.data).toThrow(/disposed/);
  });
});
