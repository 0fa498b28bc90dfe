import { ConfigError, CpuTensor, type NamedTensors, type Ops, type Rng } from '@bigr/core';

/** PatchGAN discriminator settings (docs/algorithm.md §1.1: ndf 64, 3 layers). */
export interface DiscriminatorConfig {
  /** Image channels. */
  readonly inChannels: number;
  /** Base width `ndf` (64 official). */
  readonly ndf: number;
  /** Number of stride-2 layers `disc_layers` (3 official). */
  readonly layers: number;
}

/** One conv of the PatchGAN `main` sequence; `bn` is the index of the BatchNorm after it (or null). */
export interface DiscriminatorConv {
  /** Index of the conv in `main`. */
  readonly index: number;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Stride (2 or 1). */
  readonly stride: number;
  /** Whether the conv has a bias (only the first and last do). */
  readonly bias: boolean;
  /** Index of the following BatchNorm in `main`, or null. */
  readonly bn: number | null;
  /** Whether a LeakyReLU(0.2) follows. */
  readonly leaky: boolean;
}

/**
 * The taming-transformers NLayerDiscriminator layout used by the official trainer (docs/algorithm.md §1.6): conv4×4 s2
 * (C→ndf) + LReLU; for n = 1…layers−1: conv4×4 s2 (no bias) + BN + LReLU with widths ndf·min(2^n, 8); conv4×4 s1
 * (no bias) + BN + LReLU; conv4×4 s1 → 1 channel. All pads 1. Indices are positions in `main`.
 */
export function discriminatorPlan(config: DiscriminatorConfig): DiscriminatorConv[] {
  if (!Number.isInteger(config.layers) || config.layers < 1) throw new ConfigError(`Discriminator layers must be a positive integer, got ${config.layers}.`);
  const out: DiscriminatorConv[] = [];
  let i = 0;
  out.push({ index: i, inChannels: config.inChannels, outChannels: config.ndf, stride: 2, bias: true, bn: null, leaky: true });
  i += 2;
  let mult = 1;
  for (let n = 1; n < config.layers; n++) {
    const prev = mult;
    mult = Math.min(2 ** n, 8);
    out.push({ index: i, inChannels: config.ndf * prev, outChannels: config.ndf * mult, stride: 2, bias: false, bn: i + 1, leaky: true });
    i += 3;
  }
  const prev = mult;
  mult = Math.min(2 ** config.layers, 8);
  out.push({ index: i, inChannels: config.ndf * prev, outChannels: config.ndf * mult, stride: 1, bias: false, bn: i + 1, leaky: true });
  i += 3;
  out.push({ index: i, inChannels: config.ndf * mult, outChannels: 1, stride: 1, bias: true, bn: null, leaky: false });
  return out;
}

/** Parameter names (`disc.main.{i}.*`, as in the official checkpoint) and shapes. BatchNorm running stats are not trained and not listed. */
export function discriminatorParameterShapes(config: DiscriminatorConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const c of discriminatorPlan(config)) {
    m.set(`disc.main.${c.index}.weight`, [c.outChannels, c.inChannels, 4, 4]);
    if (c.bias) m.set(`disc.main.${c.index}.bias`, [c.outChannels]);
    if (c.bn !== null) {
      m.set(`disc.main.${c.bn}.weight`, [c.outChannels]);
      m.set(`disc.main.${c.bn}.bias`, [c.outChannels]);
    }
  }
  return m;
}

/** taming's `weights_init`: conv weights N(0, 0.02²), BatchNorm weights N(1, 0.02²), biases 0. */
export function initDiscriminator(config: DiscriminatorConfig, rng: Rng): NamedTensors {
  const out: NamedTensors = new Map();
  const bnNames = new Set(
    discriminatorPlan(config)
      .filter((c) => c.bn !== null)
      .map((c) => `disc.main.${c.bn}.weight`),
  );
  for (const [name, shape] of discriminatorParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    if (name.endsWith('.weight')) {
      const mean = bnNames.has(name) ? 1 : 0;
      for (let i = 0; i < n; i++) d[i] = mean + 0.02 * rng.normal();
    }
    out.set(name, new CpuTensor(d, shape));
  }
  return out;
}

/** LeakyReLU with slope `a`: relu(x) − a·relu(−x). */
export function leakyRelu<T>(ops: Ops<T>, x: T, a: number): T {
  return ops.sub(ops.relu(x), ops.mul(ops.scalar(a), ops.relu(ops.neg(x))));
}

/**
 * PatchGAN forward: images [B, C, H, W] → patch logits [B, 1, h, w]. BatchNorm always uses the batch statistics
 * (training mode, eps 1e-5): the official trainer never switches D to eval. `get` supplies parameters, so the
 * same function serves D's own update (`ops.param`) and the generator's adversarial term (frozen constants).
 */
export function discriminator<T>(ops: Ops<T>, images: T, config: DiscriminatorConfig, get: (name: string) => T): T {
  let x = images;
  for (const c of discriminatorPlan(config)) {
    const p = `disc.main.${c.index}`;
    x = ops.conv2d(x, get(`${p}.weight`), c.bias ? get(`${p}.bias`) : null, { strides: c.stride, pads: [1, 1, 1, 1] });
    if (c.bn !== null) {
      const mu = ops.mean(x, [0, 2, 3], true);
      const centered = ops.sub(x, mu);
      const variance = ops.mean(ops.square(centered), [0, 2, 3], true);
      const w = ops.reshape(get(`disc.main.${c.bn}.weight`), [1, c.outChannels, 1, 1]);
      const b = ops.reshape(get(`disc.main.${c.bn}.bias`), [1, c.outChannels, 1, 1]);
      x = ops.add(ops.mul(ops.mul(centered, ops.rsqrt(ops.add(variance, ops.scalar(1e-5)))), w), b);
    }
    if (c.leaky) x = leakyRelu(ops, x, 0.2);
  }
  return x;
}

/** Hinge loss of D (docs/algorithm.md §1.6): ½[mean relu(1 − D(x)) + mean relu(1 + D(x̂))]. */
export function hingeDiscriminatorLoss<T>(ops: Ops<T>, realLogits: T, fakeLogits: T): T {
  const all = [0, 1, 2, 3];
  const real = ops.mean(ops.relu(ops.sub(ops.scalar(1), realLogits)), all, false);
  const fake = ops.mean(ops.relu(ops.add(ops.scalar(1), fakeLogits)), all, false);
  return ops.mul(ops.scalar(0.5), ops.add(real, fake));
}
