import { gzipSync } from 'node:zlib';
import { FormatError } from './errors.js';
import { assertFiniteTensors } from './finiteTensors.js';
import { parseIdx } from './idx.js';
import { jsonNestingDepth, parseJsonBounded } from './jsonBounded.js';
import { parseSafetensors, serializeSafetensors } from './safetensorsFormat.js';
import { CpuTensor } from './tensor.js';

/** IDX bytes: 00 00 type ndims, big-endian dims, then `data` as given. */
function idxHeader(type: number, dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = type;
  out[3] = dims.length;
  const dv = new DataView(out.buffer);
  dims.forEach((d, i) => {
    dv.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('bounded JSON', () => {
  it('measures nesting without recursion and ignores brackets in strings', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"[[[["}]}')).toBe(3);
    expect(jsonNestingDepth('"\\"[["')).toBe(0);
    expect(jsonNestingDepth('['.repeat(100000))).toBe(100000);
  });

  it('refuses JSON nested 10,000 deep with a FormatError instead of a stack overflow', () => {
    const deep = `${'['.repeat(10000)}${']'.repeat(10000)}`;
    expect(() => parseJsonBounded(deep, { source: 'x.json' })).toThrow(FormatError);
    expect(() => parseJsonBounded(deep, { source: 'x.json' })).toThrow(/x\.json nests arrays\/objects 10000 levels deep; at most 64/);
    expect(parseJsonBounded('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(() => parseJsonBounded('{"a":', { source: 'y' })).toThrow(/y is not valid JSON/);
  });

  it('a safetensors header nested 10,000 deep is a named FormatError', () => {
    const header = new TextEncoder().encode(`{"__metadata__":${'{"a":'.repeat(10000)}"x"${'}'.repeat(10000)}}`);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(() => parseSafetensors(bytes)).toThrow(/nests 10001 levels deep; a header is at most 3/);
    // A normal file still parses.
    const ok = serializeSafetensors(new Map([['w', CpuTensor.fromArray([1, 2, 3, 4], [2, 2])]]), { k: 'v' });
    expect(parseSafetensors(ok).tensors.get('w')?.shape).toEqual([2, 2]);
  });
});

describe('IDX gzip bombs', () => {
  it('stops decompressing at the size the header declares (a 5 GB bomb is refused in bounded memory)', () => {
    // Header declares 10 × 28 × 28 uint8 (7,856 bytes) but 4 MB of zeros follow.
    const bomb = gzipSync(idxHeader(0x08, [10, 28, 28], new Uint8Array(4 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(10000);
    expect(() => parseIdx(bomb, { source: 'bomb.gz' })).toThrow(/bomb\.gz: decompresses to more than 7856 bytes, the size its IDX header declares/);
  });

  it('refuses a header declaring more than the limit before decompressing the data', () => {
    const big = gzipSync(idxHeader(0x08, [60000, 300, 300], new Uint8Array(1000)));
    expect(() => parseIdx(big, { source: 'big.gz', maxBytes: 64 * 1024 * 1024 })).toThrow(/declares 5400000016 bytes of data, above the limit/);
  });

  it('still reads a genuine gzipped IDX file', () => {
    const good = gzipSync(idxHeader(0x08, [2, 2], Uint8Array.from([1, 2, 3, 4])));
    expect(Array.from(parseIdx(good).data)).toEqual([1, 2, 3, 4]);
  });
});

describe('assertFiniteTensors', () => {
  it('names the tensor and the first NaN/Inf element; integer tensors are skipped', () => {
    const ok = new Map([
      ['a', CpuTensor.fromArray([1, 2], [2])],
      ['i', CpuTensor.fromArray([1], [1], 'int32')],
    ]);
    expect(() => assertFiniteTensors(ok, 'm')).not.toThrow();
    const bad = new Map([
      ['a', CpuTensor.fromArray([1, 2], [2])],
      ['b.weight', CpuTensor.fromArray([0, Number.NaN, Infinity], [3])],
    ]);
    expect(() => assertFiniteTensors(bad, 'model.safetensors')).toThrow(
      /model\.safetensors: tensor "b\.weight" \[3\] holds 2 non-finite value\(s\) \(element 1 is NaN\)/,
    );
  });
});
