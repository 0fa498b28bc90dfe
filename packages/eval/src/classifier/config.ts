import { ConfigError } from '@bigr/core';

/**
 * Architecture of the Fashion-MNIST evaluation network (docs/evaluation.md §9.2): a small CNN on 28×28 grayscale images.
 *
 *     images uint8 [N, S, S, 1] → ÷255 → [conv0 3×3 stride 1 pad 1 (1 → c₀) → ReLU, when stemChannels c₀ > 0]
 *       → conv 3×3 stride 2 pad 1 (c₀ or 1 → c₁) → ReLU
 *       → conv 3×3 stride 2 pad 1 (c₁ → c₂)  ── "spatial": first `spatialChannels` channels, HWC-flattened
 *       → ReLU → flatten (HWC order) → FC (S/4·S/4·c₂ → hidden) → ReLU  ── "pool"
 *       → FC (hidden → classes)  ── "logits"
 *
 * Parameter names and layouts follow PyTorch: `conv0.weight` [c₀, 1, 3, 3] and `conv0.bias` [c₀] (only with a stem),
 * `conv1.weight` [c₁, c₀ or 1, 3, 3] (OIHW), `conv1.bias` [c₁],
 * `conv2.weight` [c₂, c₁, 3, 3], `conv2.bias` [c₂], `fc1.weight` [hidden, S/4·S/4·c₂] (out, in) whose input
 * columns are in (h, w, c) order, `fc1.bias`, `fc2.weight` [classes, hidden], `fc2.bias`.
 */
export interface FashionClassifierConfig {
  /** Image height = width S in pixels (a multiple of 4; 28 for Fashion-MNIST). No resizing is ever done. */
  readonly imageSize: number;
  /** Output channels c₀ of an optional full-resolution stride-1 convolution before conv1; 0 = none. */
  readonly stemChannels: number;
  /** Output channels of the two stride-2 convolutions [c₁, c₂]. */
  readonly channels: readonly [number, number];
  /** Width of the penultimate layer ("pool" features). */
  readonly hidden: number;
  /** Number of classes ("logits"). */
  readonly classes: number;
  /** Channels of the second convolution's output kept as "spatial" features (sFID analogue, docs/evaluation.md §3). */
  readonly spatialChannels: number;
}

/**
 * Default architecture: no stem, 16 → 32 channels, 128-d pool, 10 classes, 7×7×7 = 343-d spatial features. (A stem of
 * 8 channels gained +0.4 % test accuracy at 300 steps but cost 1.6× per step on tfjs-wasm, so for a fixed training
 * time the plain network trains further and ends higher.)
 */
export const DEFAULT_FASHION_CLASSIFIER_CONFIG: FashionClassifierConfig = Object.freeze({
  imageSize: 28,
  stemChannels: 0,
  channels: Object.freeze([16, 32]) as unknown as readonly [number, number],
  hidden: 128,
  classes: 10,
  spatialChannels: 7,
});

/** Identifier stored in `config.json` of a saved classifier. */
export const FASHION_CLASSIFIER_FORMAT = 'bigr-fashion-classifier';
/** Version of the architecture definition (bump when the graph's meaning changes). */
export const FASHION_CLASSIFIER_VERSION = 1;
/**
 * Input preprocessing, recorded in the extractor's name: uint8 pixels divided by 255 in float32 inside the graph,
 * no resizing.
 */
export const FASHION_CLASSIFIER_PREPROCESSING = 'u8div255-noresize';

function positiveInt(o: Record<string, unknown>, key: string, fallback: number, min = 1): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ConfigError(`Fashion classifier config "${key}" is ${JSON.stringify(v)}; expected an integer >= ${min} (default ${fallback}).`);
  }
  return v;
}

/**
 * Validates a (possibly partial, possibly untrusted) config; missing fields take the defaults of
 * {@link DEFAULT_FASHION_CLASSIFIER_CONFIG}.
 */
export function parseFashionClassifierConfig(value: unknown = {}): FashionClassifierConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      `Fashion classifier config ${JSON.stringify(value)} is not an object; expected e.g. ${JSON.stringify(DEFAULT_FASHION_CLASSIFIER_CONFIG)}.`,
    );
  }
  const o = value as Record<string, unknown>;
  const d = DEFAULT_FASHION_CLASSIFIER_CONFIG;
  const imageSize = positiveInt(o, 'imageSize', d.imageSize);
  if (imageSize % 4 !== 0) {
    throw new ConfigError(`Fashion classifier imageSize ${imageSize} is not a multiple of 4; the two stride-2 convolutions need it (Fashion-MNIST: 28).`);
  }
  const ch = o['channels'] ?? d.channels;
  if (!Array.isArray(ch) || ch.length !== 2 || !ch.every((c) => typeof c === 'number' && Number.isSafeInteger(c) && c >= 1)) {
    throw new ConfigError(`Fashion classifier "channels" is ${JSON.stringify(ch)}; expected two positive integers [conv1, conv2] (default [16, 32]).`);
  }
  const channels = [ch[0] as number, ch[1] as number] as const;
  const spatialChannels = positiveInt(o, 'spatialChannels', d.spatialChannels);
  if (spatialChannels > channels[1]) {
    throw new ConfigError(`Fashion classifier spatialChannels ${spatialChannels} exceeds the ${channels[1]} channels of conv2; use at most ${channels[1]}.`);
  }
  const stemChannels = positiveInt(o, 'stemChannels', d.stemChannels, 0);
  return { imageSize, stemChannels, channels, hidden: positiveInt(o, 'hidden', d.hidden), classes: positiveInt(o, 'classes', d.classes), spatialChannels };
}

/** Side of the second convolution's output map (S/4). */
export function featureMapSize(config: FashionClassifierConfig): number {
  return config.imageSize / 4;
}

/** Dimension of the "spatial" features: (S/4)²·spatialChannels (343 for the default). */
export function spatialDim(config: FashionClassifierConfig): number {
  return featureMapSize(config) ** 2 * config.spatialChannels;
}

/** Parameter names and shapes, in a fixed order. */
export function fashionClassifierParameterShapes(config: FashionClassifierConfig): Map<string, readonly number[]> {
  const [c1, c2] = config.channels;
  const flat = featureMapSize(config) ** 2 * c2;
  const c0 = config.stemChannels;
  const stem: [string, readonly number[]][] =
    c0 > 0
      ? [
          ['conv0.weight', [c0, 1, 3, 3]],
          ['conv0.bias', [c0]],
        ]
      : [];
  return new Map<string, readonly number[]>([
    ...stem,
    ['conv1.weight', [c1, c0 > 0 ? c0 : 1, 3, 3]],
    ['conv1.bias', [c1]],
    ['conv2.weight', [c2, c1, 3, 3]],
    ['conv2.bias', [c2]],
    ['fc1.weight', [config.hidden, flat]],
    ['fc1.bias', [config.hidden]],
    ['fc2.weight', [config.classes, config.hidden]],
    ['fc2.bias', [config.classes]],
  ]);
}
