/**
 * Training a BiGR backbone on a tokenizer's codes, as `bigr train` and every `bigr study` variant do it: the code
 * probabilities of the training images computed once, fresh Bernoulli bits drawn per batch (docs/algorithm.md §1.4:
 * training sees a new draw every epoch), the architecture from a preset with overrides, the seeded initialisation
 * and the warm-up + cosine learning rate (docs/algorithm.md §5).
 */
import { CpuTensor, createRng, required, type BitHeadLoss, type NamedTensors, type Rng } from '@bigr/core';
import { BACKBONE_PRESETS, initialiseBackbone, presetConfig, type BackboneConfig } from '@bigr/backbone';
import { resolveTranscoderConfig, type TranscoderConfig } from '@bigr/transcoder';
import type { BaeTokenizer } from '@bigr/tokenizer';
import type { CliContext } from './context.js';

/** Images per tokenizer call when computing code probabilities. */
const ENCODE_CHUNK = 256;

/** Threshold-pass code probabilities [n·N·K] of images [n, C, H, W], with an 'encode' progress bar. */
export async function codeProbabilities(ctx: Pick<CliContext, 'progress'>, tokenizer: BaeTokenizer, images: CpuTensor<'float32'>): Promise<Float32Array> {
  const [n = 0, ...rest] = images.shape;
  const tokenBits = tokenizer.tokens * tokenizer.bitsPerToken;
  const probs = new Float32Array(n * tokenBits);
  const per = images.size / Math.max(1, n);
  const progress = ctx.progress('encode');
  try {
    for (let s = 0; s < n; s += ENCODE_CHUNK) {
      const b = Math.min(ENCODE_CHUNK, n - s);
      const x = new CpuTensor<'float32'>(images.data.subarray(s * per, (s + b) * per), [b, ...rest]);
      probs.set((await tokenizer.encode(x, { mode: 'threshold' })).probabilities.data, s * tokenBits);
      progress.update({ task: 'encode', current: s + b, total: n });
    }
  } finally {
    progress.stop();
  }
  return probs;
}

/**
 * The batch source of the backbone trainer: each of `batchSize` rows picks a random image and draws its bits
 * ~ Bernoulli(its code probabilities) from the step's `rng`.
 */
export function bernoulliCodeBatches(
  probs: Float32Array,
  labels: Int32Array,
  tokens: number,
  bitsPerToken: number,
  batchSize: number,
): (step: number, rng: Rng) => { bits: CpuTensor<'uint8'>; labels: Int32Array } {
  const tokenBits = tokens * bitsPerToken;
  return (_step, rng) => {
    const bits = new Uint8Array(batchSize * tokenBits);
    const y = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const j = rng.int(labels.length);
      y[i] = required(labels[j], 'label');
      const u = rng.uniformsF32(tokenBits);
      const p = probs.subarray(j * tokenBits, (j + 1) * tokenBits);
      for (const [q, uq] of u.entries()) bits[i * tokenBits + q] = uq < required(p[q], 'code probability') ? 1 : 0;
    }
    return { bits: new CpuTensor<'uint8'>(bits, [batchSize, tokens, bitsPerToken]), labels: y };
  };
}

/** The architecture settings shared by `bigr train` and `bigr study` (0 = the preset's value). */
export interface ArchitectureSettings {
  readonly preset: string;
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly denoiserWidth: number;
  readonly denoiserBlocks: number;
  readonly dropout: number;
}

/** The backbone config of a preset with the settings' overrides, for codes of `tokens` × `bitsPerToken` bits. */
export function backboneFromSettings(
  settings: ArchitectureSettings,
  codes: { readonly tokens: number; readonly bitsPerToken: number; readonly numClasses: number },
  attention?: BackboneConfig['attention'],
): BackboneConfig {
  return presetConfig(settings.preset, {
    tokens: codes.tokens,
    bitsPerToken: codes.bitsPerToken,
    numClasses: codes.numClasses,
    ...(settings.dim > 0 ? { dim: settings.dim } : {}),
    ...(settings.layers > 0 ? { layers: settings.layers } : {}),
    ...(settings.heads > 0 ? { heads: settings.heads } : {}),
    residDropout: settings.dropout,
    ffnDropout: settings.dropout,
    ...(attention !== undefined ? { attention } : {}),
  });
}

/** The transcoder config of the preset with the settings' denoiser overrides, on `backbone`'s features. */
export function transcoderFromSettings(settings: ArchitectureSettings, backbone: BackboneConfig, target?: TranscoderConfig['target']): TranscoderConfig {
  const preset = required(BACKBONE_PRESETS[settings.preset], `backbone preset "${settings.preset}"`);
  return resolveTranscoderConfig({
    bitsPerToken: backbone.bitsPerToken,
    featureDim: backbone.dim,
    width: settings.denoiserWidth > 0 ? settings.denoiserWidth : preset.transcoder.width,
    blocks: settings.denoiserBlocks > 0 ? settings.denoiserBlocks : preset.transcoder.blocks,
    ...(target !== undefined ? { target } : {}),
  });
}

/** Initial parameters of backbone and head from `createRng('<seed>/init')` (the same for every run of a seed). */
export function initialParameters(backbone: BackboneConfig, head: BitHeadLoss, seed: number): NamedTensors {
  const initRng = createRng(`${seed}/init`);
  const params = initialiseBackbone(backbone, initRng.fork('backbone'));
  for (const [k, v] of head.initParameters(initRng.fork('transcoder'))) params.set(k, v);
  return params;
}

/** Warm-up to `lr`, then cosine decay to lr/10 at `steps` (docs/algorithm.md §5). */
export function warmupCosine(settings: { readonly lr: number; readonly warmup: number; readonly steps: number }) {
  return {
    kind: 'warmupCosine' as const,
    lr: settings.lr,
    warmupSteps: Math.min(settings.warmup, settings.steps),
    totalSteps: settings.steps,
    minLr: settings.lr * 0.1,
  };
}
