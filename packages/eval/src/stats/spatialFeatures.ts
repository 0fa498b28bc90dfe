/**
 * sFID features (docs/evaluation.md §3): the first `channels` (7) channels of the `mixed_6/conv` map (17×17×192,
 * post-ReLU), flattened in **NHWC order** — index = (h·W + w)·channels + c — giving 17·17·7 = 2023 values per
 * image. ADM's `mu_s`/`sigma_s` are stored in this order, so NCHW maps must be sliced along the channel axis
 * (not the last axis) and transposed before flattening.
 */
import { required, CpuTensor, dims4, ShapeError, type Tensor } from '@bigr/core';

/** Memory layout of a 4-D feature map. */
export type MapLayout = 'NCHW' | 'NHWC';

/**
 * Slices the first `channels` channels of a feature map ([N, C, H, W] for NCHW, [N, H, W, C] for NHWC) and
 * flattens each image in HWC order: returns float32 [N, H·W·channels].
 */
export function spatialFeatures(map: Tensor<'float32' | 'float64'>, layout: MapLayout, channels = 7): CpuTensor<'float32'> {
  if (map.shape.length !== 4) {
    throw new ShapeError(
      `spatialFeatures: the feature map has shape [${map.shape.join(', ')}]; a 4-D ${layout} map (e.g. mixed_6/conv, 17×17×192) was expected.`,
    );
  }
  const [n, a, b, c] = dims4(map.shape, 'spatialFeatures feature map');
  const [cTotal, h, w] = layout === 'NCHW' ? [a, b, c] : [c, a, b];
  if (!Number.isInteger(channels) || channels < 1 || channels > cTotal) {
    throw new ShapeError(
      `spatialFeatures: cannot take the first ${channels} channels of a map with ${cTotal} channels (${layout} [${map.shape.join(', ')}]). Check the layout.`,
    );
  }
  const src = map.data;
  const per = h * w * channels;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = i * per + (y * w + x) * channels;
        for (let ch = 0; ch < channels; ch++) {
          out[o + ch] = required(src[layout === 'NCHW' ? ((i * cTotal + ch) * h + y) * w + x : ((i * h + y) * w + x) * cTotal + ch], 'feature map value');
        }
      }
    }
  }
  return new CpuTensor(out, [n, per]);
}
