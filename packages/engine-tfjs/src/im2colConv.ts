import * as tf from '@tensorflow/tfjs';

/**
 * 2-D convolution as patch extraction + one matMul, NHWC input and HWIO weight. Every op it uses (pad, slice,
 * concat, reshape, matMul) has a gradient kernel on tfjs-wasm, so training never falls back to the cpu
 * backend's Conv2DBackpropFilter, which measured ~170× slower here (bench: 32×16×16×64, 3×3: 0.56 s vs 95 s
 * per forward+backward step). Strides are realised by over-slicing and keeping every `stride`-th row/column.
 */
export function im2colConv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: number,
  pads: readonly [top: number, left: number, bottom: number, right: number],
): tf.Tensor4D {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, , o] = w.shape;
  const [top, left, bottom, right] = pads;
  const ho = Math.floor((h + top + bottom - kh) / stride) + 1;
  const wo = Math.floor((wd + left + right - kw) / stride) + 1;
  // Pad enough that every shifted window of stride·ho rows (·wo cols) fits; the extra rows are discarded.
  const needH = kh - 1 + stride * ho;
  const needW = kw - 1 + stride * wo;
  const extraBottom = Math.max(0, needH - (h + top + bottom));
  const extraRight = Math.max(0, needW - (wd + left + right));
  const p = tf.pad(x, [
    [0, 0],
    [top, bottom + extraBottom],
    [left, right + extraRight],
    [0, 0],
  ]);
  const cols: tf.Tensor[] = [];
  for (let dy = 0; dy < kh; dy++) {
    for (let dx = 0; dx < kw; dx++) {
      let win: tf.Tensor = tf.slice(p, [0, dy, dx, 0], [n, stride * ho, stride * wo, c]);
      if (stride > 1) {
        win = tf.reshape(win, [n, ho, stride, wo, stride, c]);
        win = tf.slice(win, [0, 0, 0, 0, 0, 0], [n, ho, 1, wo, 1, c]);
      }
      cols.push(tf.reshape(win, [n * ho * wo, c]));
    }
  }
  const patches = cols.length === 1 ? cols[0]! : tf.concat(cols, 1);
  const y = tf.matMul(patches, tf.reshape(w, [kh * kw * c, o]));
  return tf.reshape(y, [n, ho, wo, o]) as tf.Tensor4D;
}
