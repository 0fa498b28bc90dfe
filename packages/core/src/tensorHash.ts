import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { NotFoundError } from './errors.js';
import { required } from './invariants.js';
import type { Tensor } from './tensor.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Hex SHA-256 of a file's bytes, streamed (constant memory). Throws {@link NotFoundError} when it is missing. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`Cannot hash ${path}: the file does not exist. Check the path.`, { cause: err });
    }
    throw err;
  }
  return hash.digest('hex');
}

function littleEndianBytes(t: Tensor): Uint8Array {
  const d = t.data;
  if (LITTLE_ENDIAN_HOST || d.BYTES_PER_ELEMENT === 1) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(d.byteLength);
  const dv = new DataView(out.buffer);
  const n = d.length;
  for (let i = 0; i < n; i++) {
    const v = required(d[i], 'tensor element');
    if (t.dtype === 'float32') dv.setFloat32(4 * i, v, true);
    else if (t.dtype === 'float64') dv.setFloat64(8 * i, v, true);
    else dv.setInt32(4 * i, v, true);
  }
  return out;
}

/**
 * Hex SHA-256 identifying a set of tensors independently of map order and file layout. Canonical encoding,
 * for each tensor in ascending name order (JS string comparison):
 * `utf8(name) 0x00 dtype 0x00 shape.join(',') 0x00`, the data byte length as u64 little-endian, then the data as
 * little-endian bytes. Two models with equal names, dtypes, shapes and bits have equal hashes.
 */
export function hashTensors(tensors: ReadonlyMap<string, Tensor>): string {
  const hash = createHash('sha256');
  const enc = new TextEncoder();
  const sorted = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, t] of sorted) {
    hash.update(enc.encode(`${name}\u0000${t.dtype}\u0000${t.shape.join(',')}\u0000`));
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(t.data.byteLength), true);
    hash.update(len);
    hash.update(littleEndianBytes(t));
  }
  return hash.digest('hex');
}
