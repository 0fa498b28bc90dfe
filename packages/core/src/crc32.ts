import { required } from './invariants.js';

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32 (ISO-HDLC, the polynomial of zlib, gzip and ZIP) of `bytes`, continuing from `initial` (default 0), as an
 * unsigned 32-bit number. Equals `zlib.crc32(bytes, initial)` of Node; written in plain JavaScript so it also runs
 * in browsers.
 */
export function crc32(bytes: Uint8Array, initial = 0): number {
  const t = crcTable();
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = required(t[(c ^ required(bytes[i], 'byte')) & 0xff], 'CRC table entry') ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
