/**
 * For the tests: reads the official-tiny fixtures (packages/testing/fixtures/official-tiny) by name.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type CpuTensor, parseSafetensors } from '@bigr/core';

/** Typed access to the arrays of one fixture file. */
export interface Fixture {
  /** All tensors by name. */
  readonly tensors: ReadonlyMap<string, CpuTensor>;
  /** A float32 array, or throws. */
  f32(name: string): Float32Array;
  /** An int32 array, or throws. */
  i32(name: string): Int32Array;
  /** The tensor, or throws. */
  get(name: string): CpuTensor;
}

/** Absolute path of a fixture file. */
export function fixturePath(name: string): string {
  const root = process.env['BIGR_REPO_ROOT'];
  if (!root) throw new Error('BIGR_REPO_ROOT is not set; run the tests through jest (packages/testing/jest/setup.cjs sets it).');
  return path.join(root, 'packages/testing/fixtures/official-tiny', name);
}

const cache = new Map<string, Promise<Fixture>>();

/** Loads (and caches) a fixture safetensors file. */
export function loadFixture(name: string): Promise<Fixture> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const bytes = await readFile(fixturePath(name));
      const parsed = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const tensors: ReadonlyMap<string, CpuTensor> = parsed.tensors;
      const get = (n: string): CpuTensor => {
        const t = tensors.get(n);
        if (!t) throw new Error(`fixture ${name} has no tensor ${n}`);
        return t;
      };
      return {
        tensors,
        get,
        f32: (n: string) => {
          const t = get(n);
          if (t.dtype !== 'float32') throw new Error(`${n} is ${t.dtype}`);
          return t.data as Float32Array;
        },
        i32: (n: string) => {
          const t = get(n);
          if (t.dtype !== 'int32') throw new Error(`${n} is ${t.dtype}`);
          return t.data as Int32Array;
        },
      };
    })();
    cache.set(name, p);
  }
  return p;
}
