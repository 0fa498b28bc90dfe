/**
 * Dense float64 matrix products in the "NT" form used throughout the metrics: both operands are row-major with
 * the summed index contiguous, so every output entry is a dot product of two contiguous rows.
 *
 * Every output entry is accumulated sequentially over the shared index (no blocking along it), so an entry's
 * value does not depend on tile sizes or on which other entries are computed with it, and `rowSquaredNorms`
 * reproduces the diagonal of `A·Aᵀ` bit for bit. JavaScript never fuses multiply-add, so results are
 * deterministic across runs and platforms.
 */
import { required } from '@bigr/core';

/** Readable float row storage accepted by the kernels. */
export type FloatArray = Float64Array | Float32Array;

/**
 * An injectable matrix product in NT form: returns `out[i·n + j] = Σ_p a[i·k + p] · b[j·k + p]` as a new
 * row-major m×n array. Plug in a faster backend (e.g. an onnxruntime MatMul) for large workloads; it must
 * compute in float64 (or accept the documented loss of precision).
 */
export type GemmNT = (a: Float64Array, b: Float64Array, m: number, n: number, k: number) => Promise<Float64Array>;

const J_BLOCK = 32;

/**
 * `out[i·n + j] = Σ_p a[i·k + p] · b[j·k + p]` (i.e. A·Bᵀ) for row-major A (m×k) and B (n×k). Writes into
 * `out` (length ≥ m·n, row-major m×n) and returns it.
 */
export function gemmNT(a: FloatArray, b: FloatArray, m: number, n: number, k: number, out: Float64Array = new Float64Array(m * n)): Float64Array {
  for (let j0 = 0; j0 < n; j0 += J_BLOCK) {
    const j1 = Math.min(n, j0 + J_BLOCK);
    gemmBlock(a, b, 0, m, j0, j1, n, k, out);
  }
  return out;
}

/**
 * Symmetric product `out = A·Aᵀ` for row-major A (n×k): computes the upper triangle and mirrors it, halving the
 * work. Entries are bitwise identical to those of {@link gemmNT}(A, A).
 */
export function syrkNT(a: FloatArray, n: number, k: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  for (let j0 = 0; j0 < n; j0 += J_BLOCK) {
    const j1 = Math.min(n, j0 + J_BLOCK);
    // rows i in [0, j1): blocks on or above the diagonal (i ≤ j within rounding to 4-row groups)
    gemmBlock(a, a, 0, j1, j0, j1, n, k, out);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) out[i * n + j] = required(out[j * n + i], 'upper-triangle entry');
  }
  return out;
}

/** Squared Euclidean norm of each row of a row-major m×k matrix, summed in the same order as the kernels. */
export function rowSquaredNorms(a: FloatArray, m: number, k: number, out: Float64Array = new Float64Array(m)): Float64Array {
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let p = i * k; p < (i + 1) * k; p++) {
      const x = required(a[p], 'row of A');
      s += x * x;
    }
    out[i] = s;
  }
  return out;
}

/** Computes out[i, j] for i in [i0, i1), j in [j0, j1) with 4×4 register blocking and scalar edges. */
function gemmBlock(a: FloatArray, b: FloatArray, i0: number, i1: number, j0: number, j1: number, n: number, k: number, out: Float64Array): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    let j = j0;
    for (; j + 3 < j1; j += 4) {
      const b0 = j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0,
        s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let p = 0; p < k; p++) {
        const y0 = required(b[b0 + p], 'row of B'),
          y1 = required(b[b1 + p], 'row of B'),
          y2 = required(b[b2 + p], 'row of B'),
          y3 = required(b[b3 + p], 'row of B');
        let x = required(a[a0 + p], 'row of A');
        s00 += x * y0;
        s01 += x * y1;
        s02 += x * y2;
        s03 += x * y3;
        x = required(a[a1 + p], 'row of A');
        s10 += x * y0;
        s11 += x * y1;
        s12 += x * y2;
        s13 += x * y3;
        x = required(a[a2 + p], 'row of A');
        s20 += x * y0;
        s21 += x * y1;
        s22 += x * y2;
        s23 += x * y3;
        x = required(a[a3 + p], 'row of A');
        s30 += x * y0;
        s31 += x * y1;
        s32 += x * y2;
        s33 += x * y3;
      }
      let o = i * n + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + 2] = s02;
      out[o + 3] = s03;
      o += n;
      out[o] = s10;
      out[o + 1] = s11;
      out[o + 2] = s12;
      out[o + 3] = s13;
      o += n;
      out[o] = s20;
      out[o + 1] = s21;
      out[o + 2] = s22;
      out[o + 3] = s23;
      o += n;
      out[o] = s30;
      out[o + 1] = s31;
      out[o + 2] = s32;
      out[o + 3] = s33;
    }
    for (; j < j1; j++) {
      for (let r = 0; r < 4; r++) out[(i + r) * n + j] = dot(a, (i + r) * k, b, j * k, k);
    }
  }
  for (; i < i1; i++) {
    for (let j = j0; j < j1; j++) out[i * n + j] = dot(a, i * k, b, j * k, k);
  }
}

function dot(a: FloatArray, ao: number, b: FloatArray, bo: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += required(a[ao + p], 'row of A') * required(b[bo + p], 'row of B');
  return s;
}
