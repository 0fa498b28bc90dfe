import { at, NotFoundError, ShapeError, type CpuTensor, type Ops } from '@bigr/core';

/** Shape of the image batch a perceptual loss receives. */
export interface ImageBatchDims {
  /** Channels (1 or 3). */
  readonly channels: number;
  /** Height. */
  readonly height: number;
  /** Width. */
  readonly width: number;
}

/**
 * A pluggable perceptual loss for B-AE training: a scalar (batch mean) distance between images x and x̂
 * [B, C, H, W] in [0, 1]. Its network is frozen: implementations must read their weights through
 * `ops.constant`, never `ops.param`, so only the B-AE is trained. No pretrained network ships with this package
 * (LPIPS-VGG16 weights cannot be downloaded at run time); build one with {@link lpipsLoss} and
 * {@link vgg16Features} from weights you have, e.g. the `perceptual.*` tensors of a released B-AE checkpoint.
 */
export interface PerceptualLoss {
  /** Name for logs. */
  readonly name: string;
  /** The loss graph. */
  loss<T>(ops: Ops<T>, x: T, xHat: T, dims: ImageBatchDims): T;
}

/** A frozen feature extractor: NCHW images → a list of NCHW feature maps with their channel counts. */
export interface FeatureNetwork {
  /** Channels of each returned feature map. */
  readonly channels: readonly number[];
  /** Feature maps for images [B, 3, H, W] (already scaled as the network expects). */
  features<T>(ops: Ops<T>, images: T, dims: ImageBatchDims): T[];
}

/** Options of {@link lpipsLoss}. */
export interface LpipsOptions {
  /** Per-layer 1×1 "lin" weights (length = channels of that layer), LPIPS `lin{k}.model.1.weight`. */
  readonly linWeights: readonly Float32Array[];
  /**
   * LPIPS ScalingLayer: images become (x − shift)/scale before the network. Default the LPIPS constants
   * shift (−.030, −.088, −.188), scale (.458, .448, .450). The official trainer feeds [0, 1] images although
   * LPIPS expects [−1, 1] (QUIRK, docs/algorithm.md §1.6); set `inputRange: '[-1,1]'` to map x → 2x − 1 first.
   */
  readonly shift?: readonly [number, number, number];
  /** See `shift`. */
  readonly scale?: readonly [number, number, number];
  /** `'[0,1]'` (official quirk, default) or `'[-1,1]'` (what LPIPS was trained for). */
  readonly inputRange?: '[0,1]' | '[-1,1]';
}

/**
 * LPIPS (Zhang et al. 2018) over any {@link FeatureNetwork}: for each layer, unit-normalise features along
 * channels (eps 1e-10; see the NaN-safe norm below), square the difference, weight channels with `lin`, average spatially; sum over layers and
 * average over the batch. Grayscale images are repeated to 3 channels.
 */
export function lpipsLoss(network: FeatureNetwork, options: LpipsOptions): PerceptualLoss {
  if (options.linWeights.length !== network.channels.length) {
    throw new ShapeError(`lpipsLoss: ${options.linWeights.length} lin weight vectors for ${network.channels.length} feature layers; give one per layer.`);
  }
  options.linWeights.forEach((w, i) => {
    if (w.length !== network.channels[i])
      throw new ShapeError(`lpipsLoss: lin weight ${i} has ${w.length} values but layer ${i} has ${network.channels[i]} channels.`);
  });
  const shift = options.shift ?? [-0.03, -0.088, -0.188];
  const scale = options.scale ?? [0.458, 0.448, 0.45];
  return {
    name: 'lpips',
    loss<T>(ops: Ops<T>, x: T, xHat: T, dims: ImageBatchDims): T {
      const prep = (img: T): T => {
        let v = dims.channels === 1 ? ops.concat([img, img, img], 1) : img;
        if (options.inputRange === '[-1,1]') v = ops.sub(ops.mul(v, ops.scalar(2)), ops.scalar(1));
        return ops.div(ops.sub(v, ops.constant(Float32Array.from(shift), [1, 3, 1, 1])), ops.constant(Float32Array.from(scale), [1, 3, 1, 1]));
      };
      const d3 = { ...dims, channels: 3 };
      const f0 = network.features(ops, prep(x), d3);
      const f1 = network.features(ops, prep(xHat), d3);
      let total: T | null = null;
      for (const [k, feature0] of f0.entries()) {
        const n0 = unitNormalise(ops, feature0);
        const n1 = unitNormalise(ops, at(f1, k, 'feature map of the reconstruction'));
        const diff = ops.square(ops.sub(n0, n1));
        const c = at(network.channels, k, 'feature layer channels');
        const weighted = ops.conv2d(diff, ops.constant(at(options.linWeights, k, 'lin weight'), [1, c, 1, 1]), null, { strides: 1, pads: [0, 0, 0, 0] });
        const layer = ops.mean(weighted, [0, 1, 2, 3], false);
        total = total === null ? layer : ops.add(total, layer);
      }
      if (total === null) throw new ShapeError('lpipsLoss: the feature network returned no feature maps.');
      return total;
    },
  };
}

/**
 * x / (‖x‖₂ over channels + 1e-10), as LPIPS' normalize_tensor. The norm is sqrt(Σx² + 1e-20), which differs from
 * sqrt(Σx²) by at most 1e-10 (the size of LPIPS' own eps) but keeps the gradient finite where every channel is 0
 * (after a ReLU); there the plain sqrt gives 0·∞ = NaN.
 */
function unitNormalise<T>(ops: Ops<T>, x: T): T {
  const norm = ops.sqrt(ops.add(ops.sum(ops.square(x), [1], true), ops.scalar(1e-20)));
  return ops.div(x, ops.add(norm, ops.scalar(1e-10)));
}

/** max(a, b) = (a + b + |a − b|)/2 with |d| = relu(d) + relu(−d) (Ops has no max). */
function maximum<T>(ops: Ops<T>, a: T, b: T): T {
  const d = ops.sub(a, b);
  return ops.mul(ops.scalar(0.5), ops.add(ops.add(a, b), ops.add(ops.relu(d), ops.relu(ops.neg(d)))));
}

/** 2×2 max pooling with stride 2 (floor mode: a trailing odd row/column is dropped, as in PyTorch). */
export function maxPool2x2<T>(ops: Ops<T>, x: T, dims: ImageBatchDims): { y: T; dims: ImageBatchDims } {
  const h = Math.floor(dims.height / 2);
  const w = Math.floor(dims.width / 2);
  let v = x;
  if (dims.height !== 2 * h) v = ops.slice(v, 2, 0, 2 * h);
  if (dims.width !== 2 * w) v = ops.slice(v, 3, 0, 2 * w);
  const r = ops.reshape(v, [-1, dims.channels, h, 2, w, 2]);
  const rows = maximum(ops, ops.slice(r, 3, 0, 1), ops.slice(r, 3, 1, 2));
  const cols = maximum(ops, ops.slice(rows, 5, 0, 1), ops.slice(rows, 5, 1, 2));
  return { y: ops.reshape(cols, [-1, dims.channels, h, w]), dims: { channels: dims.channels, height: h, width: w } };
}

/** VGG16 `features` layout as LPIPS slices it: [slice, conv index, out channels] per conv; pools before 4, 9, 16, 23. */
const VGG16_CONVS: readonly (readonly [number, number, number])[] = [
  [1, 0, 64],
  [1, 2, 64],
  [2, 5, 128],
  [2, 7, 128],
  [3, 10, 256],
  [3, 12, 256],
  [3, 14, 256],
  [4, 17, 512],
  [4, 19, 512],
  [4, 21, 512],
  [5, 24, 512],
  [5, 26, 512],
  [5, 28, 512],
];

/**
 * The VGG16 feature network of LPIPS (outputs relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) with weights from a
 * state dict using the LPIPS names `net.slice{s}.{i}.weight|bias` (a `perceptual.` prefix, as in released B-AE
 * checkpoints, is accepted). Weights are frozen constants.
 */
export function vgg16Features(weights: ReadonlyMap<string, CpuTensor>): FeatureNetwork {
  const prefix = [...weights.keys()].some((k) => k.startsWith('perceptual.net.')) ? 'perceptual.net.' : 'net.';
  const get = (name: string, shape: number[]): Float32Array => {
    const t = weights.get(prefix + name);
    if (!t) throw new NotFoundError(`vgg16Features: weight ${prefix + name} is missing. Pass the LPIPS state dict (net.slice*.*, lin*.model.1.weight).`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.size !== n) throw new ShapeError(`vgg16Features: ${prefix + name} has shape [${t.shape.join(', ')}] but [${shape.join(', ')}] was expected.`);
    return t.dtype === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>);
  };
  // each conv reads the previous conv's output channels (RGB for the first)
  const convs: { slice: number; o: number; cin: number; w: Float32Array; b: Float32Array }[] = [];
  let cin = 3;
  for (const [s, i, o] of VGG16_CONVS) {
    convs.push({ slice: s, o, cin, w: get(`slice${s}.${i}.weight`, [o, cin, 3, 3]), b: get(`slice${s}.${i}.bias`, [o]) });
    cin = o;
  }
  return {
    channels: [64, 128, 256, 512, 512],
    features<T>(ops: Ops<T>, images: T, dims: ImageBatchDims): T[] {
      const outs: T[] = [];
      let x = images;
      let d = dims;
      let slice = 1;
      for (const c of convs) {
        if (c.slice !== slice) {
          outs.push(x);
          const p = maxPool2x2(ops, x, d);
          x = p.y;
          d = p.dims;
          slice = c.slice;
        }
        x = ops.relu(ops.conv2d(x, ops.constant(c.w, [c.o, c.cin, 3, 3]), ops.constant(c.b, [c.o]), { strides: 1, pads: [1, 1, 1, 1] }));
        d = { ...d, channels: c.o };
      }
      outs.push(x);
      return outs;
    },
  };
}

/** Reads the five LPIPS lin weights `lin{k}.model.1.weight` (or `perceptual.lin…`) from a state dict. */
export function lpipsLinWeights(weights: ReadonlyMap<string, CpuTensor>): Float32Array[] {
  const prefix = [...weights.keys()].some((k) => k.startsWith('perceptual.lin')) ? 'perceptual.' : '';
  return [0, 1, 2, 3, 4].map((k) => {
    const t = weights.get(`${prefix}lin${k}.model.1.weight`);
    if (!t) throw new NotFoundError(`LPIPS weight ${prefix}lin${k}.model.1.weight is missing; pass the LPIPS (or released B-AE) state dict.`);
    return t.dtype === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>);
  });
}
