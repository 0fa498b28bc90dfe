/**
 * Adapter from a user-supplied ONNX conversion of the FID Inception network (docs/evaluation.md §1.2, §6.1) to a
 * {@link FeatureExtractor}. The ONNX engine's file-loading API is injected as a `runner` (one float32 input
 * tensor → named output tensors), so this module needs no runtime.
 *
 * Two model forms are accepted (`mode`):
 * - `'normalized-299'` (default; e.g. a torch.onnx export of pytorch-fid / torch-fidelity's FID Inception):
 *   the model starts at the 299×299 normalised input. This adapter resizes with the TF1 asymmetric bilinear
 *   rule ({@link resizeBilinearTf1}) in float32 per channel, then normalises (x − 128)/128 into [−1, 1], and
 *   feeds float32 NCHW [N, 3, 299, 299] (or NHWC with `inputLayout: 'NHWC'`).
 * - `'raw-255'` (a tf2onnx conversion of the TF graph, which resizes internally): feeds float32 NHWC
 *   [N, H, W, 3] with values 0…255 at the native image size.
 *
 * Outputs (names from `outputs`), validated with clear errors:
 * - pool3: [N, 2048], [N, 2048, 1, 1] or [N, 1, 1, 2048];
 * - mixed_6/conv (`Mixed_6d.branch1x1` in torchvision naming), optional: [N, 192, 17, 17] (NCHW) or
 *   [N, 17, 17, 192] (NHWC) — the layout is recognised from the shape; the first 7 channels are taken and
 *   HWC-flattened to 2023 values (§3);
 * - unbiased logits (pool3 · W without bias, all 1008 classes), optional: [N, 1008].
 * Expected sizes can be overridden for other networks via `expect`.
 */
import { required, CpuTensor, ConfigError, dims4, NotFoundError, ShapeError, throwIfAborted, type Tensor } from '@bigr/core';
import type { ExtractedFeatures, ExtractOptions, FeatureExtractor } from './featureExtractor.js';
import { toUint8Nhwc } from './quantize.js';
import { resizeBilinearTf1 } from './tf1Resize.js';
import { spatialFeatures } from '../stats/spatialFeatures.js';

/** Runs the model on one input tensor and returns its outputs by name. */
export type ModelRunner = (input: CpuTensor<'float32'>) => Promise<Record<string, CpuTensor>>;

/** Output names of the model. */
export interface InceptionOutputNames {
  /** pool3 (2048-d). */
  readonly pool: string;
  /** mixed_6/conv, for sFID. */
  readonly spatial?: string;
  /** Unbiased logits, for IS. */
  readonly logits?: string;
}

/** Expected sizes (defaults: the FID Inception). */
export interface InceptionExpectedSizes {
  /** pool3 width (2048). */
  readonly pool?: number;
  /** Logit classes (1008). */
  readonly logits?: number;
  /** Channels of the spatial map (192). */
  readonly spatialChannels?: number;
  /** Side of the spatial map (17). */
  readonly spatialSize?: number;
  /** Channels kept for sFID (7). */
  readonly spatialKeep?: number;
  /** Model input side in 'normalized-299' mode (299). */
  readonly inputSize?: number;
}

/** Options for {@link createOnnxInceptionExtractor}. */
export interface OnnxInceptionOptions {
  /** Runs the loaded ONNX model. */
  readonly runner: ModelRunner;
  /** Identifier of the weights (e.g. `sha256:…` of the .onnx file); becomes part of the extractor name. */
  readonly weightsId: string;
  /** Model form (see module docs). Default 'normalized-299'. */
  readonly mode?: 'normalized-299' | 'raw-255';
  /** Input layout of the model (default NCHW for 'normalized-299'; 'raw-255' is always NHWC). */
  readonly inputLayout?: 'NCHW' | 'NHWC';
  /** Output tensor names. */
  readonly outputs: InceptionOutputNames;
  /** Overrides of the expected sizes. */
  readonly expect?: InceptionExpectedSizes;
}

/** Contents of the JSON sidecar that accompanies a user's ONNX file. */
export type InceptionSidecar = Omit<OnnxInceptionOptions, 'runner'>;

/** Validates a parsed JSON sidecar (`{ weightsId, mode?, inputLayout?, outputs: { pool, spatial?, logits? } }`). */
export function parseInceptionSidecar(json: unknown): InceptionSidecar {
  const o = json as Record<string, unknown> | null;
  // a declaration (not an arrow) so that the compiler narrows the values after each `fail` call
  function fail(msg: string): never {
    throw new ConfigError(
      `Inception sidecar: ${msg}. Expected {"weightsId": "...", "mode": "normalized-299" | "raw-255", "inputLayout": "NCHW" | "NHWC", "outputs": {"pool": ` +
        `"...", "spatial": "...", "logits": "..."}}.`,
    );
  }
  if (typeof o !== 'object' || o === null) return fail('not a JSON object');
  if (typeof o.weightsId !== 'string' || o.weightsId === '') fail('"weightsId" must be a non-empty string');
  if (o.mode !== undefined && o.mode !== 'normalized-299' && o.mode !== 'raw-255') fail(`unknown mode ${JSON.stringify(o.mode)}`);
  if (o.inputLayout !== undefined && o.inputLayout !== 'NCHW' && o.inputLayout !== 'NHWC') fail(`unknown inputLayout ${JSON.stringify(o.inputLayout)}`);
  const out = o.outputs as Record<string, unknown> | undefined;
  if (typeof out !== 'object' || out === null || typeof out.pool !== 'string') fail('"outputs.pool" must name the pool3 output');
  for (const k of ['spatial', 'logits']) if (out[k] !== undefined && typeof out[k] !== 'string') fail(`"outputs.${k}" must be a string`);
  return {
    weightsId: o.weightsId as string,
    mode: o.mode as InceptionSidecar['mode'],
    inputLayout: o.inputLayout as InceptionSidecar['inputLayout'],
    outputs: { pool: out.pool, spatial: out.spatial as string | undefined, logits: out.logits as string | undefined },
    expect: o.expect as InceptionExpectedSizes | undefined,
  };
}

/** Builds the model input for one uint8 NHWC batch. */
export function inceptionInput(images: Tensor<'uint8'>, mode: 'normalized-299' | 'raw-255', layout: 'NCHW' | 'NHWC', size = 299): CpuTensor<'float32'> {
  const [n, h, w, c] = dims4(images.shape, 'Inception input images');
  if (c !== 3)
    throw new ShapeError(
      `Inception input needs 3-channel RGB images; got ${c} channels (shape [${images.shape.join(', ')}]). Replicate grayscale to RGB first.`,
    );
  if (mode === 'raw-255') return new CpuTensor(Float32Array.from(images.data), [n, h, w, c]);
  const resized = resizeBilinearTf1(images.data, n, h, w, c, size, size);
  for (let i = 0; i < resized.length; i++) resized[i] = Math.fround(Math.fround(required(resized[i], 'resized pixel') - 128) * 0.0078125);
  if (layout === 'NHWC') return new CpuTensor(resized, [n, size, size, c]);
  const nchw = new Float32Array(resized.length);
  const hw = size * size;
  for (let i = 0; i < n; i++)
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) nchw[(i * c + ch) * hw + p] = required(resized[(i * hw + p) * c + ch], 'resized pixel');
  return new CpuTensor(nchw, [n, c, size, size]);
}

function output(outputs: Record<string, CpuTensor>, name: string, role: string): CpuTensor<'float32'> {
  const t = outputs[name];
  if (!t)
    throw new NotFoundError(
      `Inception model has no output "${name}" (${role}). Outputs returned: ${Object.keys(outputs).join(', ') || '(none)'}. ` +
        `Fix the output names in the sidecar.`,
    );
  if (t.dtype === 'float32') return t as CpuTensor<'float32'>;
  if (t.dtype === 'float64') return new CpuTensor(Float32Array.from(t.data as Float64Array), t.shape);
  throw new ShapeError(`Inception output "${name}" (${role}) has dtype ${t.dtype}; float32 was expected.`);
}

/** Wraps an injected ONNX runner as a {@link FeatureExtractor} for FID, sFID, IS and precision/recall. */
export function createOnnxInceptionExtractor(options: OnnxInceptionOptions): FeatureExtractor {
  const mode = options.mode ?? 'normalized-299';
  const layout = mode === 'raw-255' ? 'NHWC' : (options.inputLayout ?? 'NCHW');
  const e = options.expect ?? {};
  const poolDim = e.pool ?? 2048;
  const numClasses = e.logits ?? 1008;
  const spC = e.spatialChannels ?? 192;
  const spS = e.spatialSize ?? 17;
  const keep = e.spatialKeep ?? 7;
  const inputSize = e.inputSize ?? 299;
  const preprocessing = mode === 'raw-255' ? 'raw255-nhwc(in-graph resize)' : `tf1-bilinear-${inputSize}-${layout.toLowerCase()}`;
  return {
    name: `fid-inception/${options.weightsId}/${preprocessing}`,
    featureDim: poolDim,
    spatialDim: options.outputs.spatial ? spS * spS * keep : undefined,
    numClasses: options.outputs.logits ? numClasses : undefined,
    input: { channels: 3 },
    async extract(images: Tensor, opts: ExtractOptions = {}): Promise<ExtractedFeatures> {
      throwIfAborted(opts.signal, 'feature extraction');
      const u8 = toUint8Nhwc(images);
      const [n] = dims4(u8.shape, 'Inception input images');
      const outs = await options.runner(inceptionInput(u8, mode, layout, inputSize));
      const pool = output(outs, options.outputs.pool, 'pool3');
      const okPool =
        pool.size === n * poolDim &&
        ((pool.shape.length === 2 && pool.shape[1] === poolDim) ||
          (pool.shape.length === 4 &&
            ((pool.shape[1] === poolDim && pool.shape[2] === 1 && pool.shape[3] === 1) ||
              (pool.shape[3] === poolDim && pool.shape[1] === 1 && pool.shape[2] === 1))));
      if (!okPool || pool.shape[0] !== n) {
        throw new ShapeError(
          `Inception pool3 output "${options.outputs.pool}" has shape [${pool.shape.join(', ')}]; ` +
            `[${n}, ${poolDim}] (or [${n}, ${poolDim}, 1, 1] / [${n}, 1, 1, ${poolDim}]) was expected for ${n} images.`,
        );
      }
      const result: { pool: CpuTensor<'float32'>; spatial?: CpuTensor<'float32'>; logits?: CpuTensor<'float32'> } = {
        pool: new CpuTensor(pool.data, [n, poolDim]),
      };
      if (options.outputs.spatial) {
        const sp = output(outs, options.outputs.spatial, 'mixed_6/conv');
        const s = sp.shape;
        let spLayout: 'NCHW' | 'NHWC';
        if (s.length === 4 && s[0] === n && s[1] === spC && s[2] === spS && s[3] === spS) spLayout = 'NCHW';
        else if (s.length === 4 && s[0] === n && s[1] === spS && s[2] === spS && s[3] === spC) spLayout = 'NHWC';
        else
          throw new ShapeError(
            `Inception spatial output "${options.outputs.spatial}" has shape [${s.join(', ')}]; ` +
              `[${n}, ${spC}, ${spS}, ${spS}] (NCHW) or [${n}, ${spS}, ${spS}, ${spC}] (NHWC) was expected (mixed_6/conv, Mixed_6d.branch1x1).`,
          );
        result.spatial = spatialFeatures(sp, spLayout, keep);
      }
      if (options.outputs.logits) {
        const lg = output(outs, options.outputs.logits, 'unbiased logits');
        if (lg.size !== n * numClasses || lg.shape[0] !== n || lg.shape[lg.shape.length - 1] !== numClasses) {
          throw new ShapeError(
            `Inception logits output "${options.outputs.logits}" has shape [${lg.shape.join(', ')}]; ` +
              `[${n}, ${numClasses}] was expected (all 1008 classes, no bias).`,
          );
        }
        result.logits = new CpuTensor(lg.data, [n, numClasses]);
      }
      return result;
    },
  };
}
