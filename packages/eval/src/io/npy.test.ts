import { readFileSync } from 'node:fs';
import { FormatError } from '@bigr/core';
import { encodeNpy, encodeNpyHeader, parseNpy, parseNpyHeader } from './npy.js';
import { fixturePath } from '../test/fixtures.js';

function withHeader(dict: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const text = new TextEncoder().encode(`${dict}\n`);
  const out = new Uint8Array(pre + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, text.length, true);
  else v.setUint32(8, text.length, true);
  out.set(text, pre);
  out.set(data, pre + text.length);
  return out;
}

describe('.npy', () => {
  it('round-trips every supported dtype, including scalars and empty arrays', () => {
    const cases = [
      { dtype: 'float64', shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6.5]) },
      { dtype: 'float32', shape: [4], data: Float32Array.from([1, -2, 3.25, 0]) },
      { dtype: 'uint8', shape: [1, 2, 2, 1], data: Uint8Array.from([0, 255, 7, 9]) },
      { dtype: 'int64', shape: [], data: BigInt64Array.from([-5n]) },
      { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
    ] as const;
    for (const c of cases) {
      const bytes = encodeNpy(c);
      expect(bytes.length % 1).toBe(0);
      expect(encodeNpyHeader(c.dtype, c.shape).length % 64).toBe(0);
      const back = parseNpy(bytes);
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(c.shape);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(c.data as ArrayLike<unknown>));
    }
    expect(new TextDecoder().decode(encodeNpyHeader('float64', [5]))).toContain("'shape': (5,), }");
    expect(new TextDecoder().decode(encodeNpyHeader('uint8', []))).toContain("{'descr': '|u1', 'fortran_order': False, 'shape': (), }");
  });

  it('parses header variants: key order, version 2/3, Python 2 long suffixes', () => {
    const data = new Uint8Array(new Float64Array([1, 2]).buffer);
    const h = parseNpyHeader(withHeader("{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}", data));
    expect(h).toMatchObject({ dtype: 'float64', shape: [2], version: 1 });
    expect(parseNpy(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }", data, 2)).shape).toEqual([2]);
    expect(parseNpyHeader(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", data, 3)).version).toBe(3);
  });

  it('rejects fortran order, big-endian, object and unsupported dtypes with clear errors', () => {
    expect(() => parseNpy(readFileSync(fixturePath('fortran.npy')))).toThrow(/fortran_order: True/);
    expect(() => parseNpy(readFileSync(fixturePath('big-endian.npy')))).toThrow(/big-endian/);
    expect(() => parseNpy(withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"))).toThrow(/object arrays/);
    expect(() => parseNpy(withHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }"))).toThrow(/supported are/);
    expect(() => parseNpy(withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"))).toThrow(/Structured/);
  });

  it('rejects malformed, truncated and oversized input', () => {
    expect(() => parseNpy(new Uint8Array(20))).toThrow(/magic/);
    expect(() => parseNpy(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(16)))).toThrow(/truncated or corrupt/);
    expect(() => parseNpy(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"))).toThrow(FormatError);
    expect(() => parseNpy(withHeader("{'descr': '<f8' 'shape': (1,)}"))).toThrow(/malformed/);
    expect(() => parseNpy(withHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }${' '.repeat(20000)}`))).toThrow(/at most 10000/);
    const bad = withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }");
    bad[6] = 9;
    expect(() => parseNpy(bad)).toThrow(/version 9/);
    expect(() => parseNpyHeader(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"))).toThrow(/too/);
  });
});
