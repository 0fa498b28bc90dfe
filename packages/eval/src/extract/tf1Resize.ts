/**
 * TensorFlow-1 `ResizeBilinear` with align_corners = false and no half-pixel centres (the "asymmetric"
 * mapping used inside the FID Inception graph, docs/evaluation.md §1.3), emulated in float32:
 *
 *   scale = f32(in / out); s = f32(j · scale); lo = ⌊s⌋; hi = min(⌈s⌉, in − 1); t = s − lo;
 *   top = a + (b − a)·t_x; bottom = c + (d − c)·t_x; value = top + (bottom − top)·t_y.
 *
 * Known answer: [[0,1],[2,3]] → 3×3 gives [[0, 2/3, 1],[4/3, 2, 7/3],[2, 8/3, 3]] (PyTorch's half-pixel
 * convention would give [[0,0.5,1],[1,1.5,2],[2,2.5,3]]).
 */
import { required, ConfigError, ShapeError } from '@bigr/core';

interface AxisWeights {
  lo: Int32Array;
  hi: Int32Array;
  t: Float32Array;
}

function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = Math.fround(inSize / outSize);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  for (let j = 0; j < outSize; j++) {
    const s = Math.fround(j * scale);
    const f = Math.floor(s);
    lo[j] = Math.max(f, 0);
    hi[j] = Math.min(Math.ceil(s), inSize - 1);
    t[j] = Math.fround(s - f);
  }
  return { lo, hi, t };
}

/**
 * Resizes an NHWC batch (`data` of length n·inH·inW·c, uint8 or float) to outH×outW with the TF1 asymmetric
 * bilinear rule; returns float32 NHWC values in the input's range (no quantisation).
 */
export function resizeBilinearTf1(
  data: Uint8Array | Float32Array | Float64Array,
  n: number,
  inH: number,
  inW: number,
  c: number,
  outH: number,
  outW: number,
): Float32Array {
  if (data.length !== n * inH * inW * c) {
    throw new ShapeError(`resizeBilinearTf1: ${data.length} values do not form an NHWC batch [${n}, ${inH}, ${inW}, ${c}].`);
  }
  if (!(inH > 0 && inW > 0 && outH > 0 && outW > 0))
    throw new ConfigError(`resizeBilinearTf1: sizes must be positive (in ${inH}×${inW}, out ${outH}×${outW}).`);
  const ys = axisWeights(inH, outH);
  const xs = axisWeights(inW, outW);
  const out = new Float32Array(n * outH * outW * c);
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    const base = i * inH * inW * c;
    for (let y = 0; y < outH; y++) {
      const top = base + required(ys.lo[y], 'source row') * inW * c;
      const bot = base + required(ys.hi[y], 'source row') * inW * c;
      const ty = required(ys.t[y], 'row weight');
      for (let x = 0; x < outW; x++) {
        const l = required(xs.lo[x], 'source column') * c;
        const r = required(xs.hi[x], 'source column') * c;
        const tx = required(xs.t[x], 'column weight');
        const o = ((i * outH + y) * outW + x) * c;
        for (let ch = 0; ch < c; ch++) {
          const tl = f(required(data[top + l + ch], 'source value'));
          const tr = f(required(data[top + r + ch], 'source value'));
          const bl = f(required(data[bot + l + ch], 'source value'));
          const br = f(required(data[bot + r + ch], 'source value'));
          const tv = f(tl + f(f(tr - tl) * tx));
          const bv = f(bl + f(f(br - bl) * tx));
          out[o + ch] = f(tv + f(f(bv - tv) * ty));
        }
      }
    }
  }
  return out;
}
