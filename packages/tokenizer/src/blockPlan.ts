import type { Ops } from '@bigr/core';
import { attnBlock } from './attnBlock.js';
import { conv3x3, type NormSettings } from './conv.js';
import { downsample } from './downsample.js';
import { normalize } from './normalize.js';
import { resBlock } from './resBlock.js';
import { upsample } from './upsample.js';

/** Kinds of entries in the official `encoder.blocks` / `generator.blocks` module lists. */
export type BlockKind = 'Conv2d' | 'ResBlock' | 'AttnBlock' | 'Downsample' | 'Upsample' | 'GroupNorm';

/** One entry of a block list: its index (the state-dict key `…blocks.{index}`), kind and channel counts. */
export interface BlockSpec {
  /** Position in the module list. */
  readonly index: number;
  /** Module type (the official class name). */
  readonly kind: BlockKind;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
}

/** Spatial size of a feature map. */
export interface SpatialSize {
  /** Height. */
  readonly height: number;
  /** Width. */
  readonly width: number;
}

/**
 * Runs one block of a plan on NCHW input `x` of size `size` and returns its output and output size. Parameters are
 * read under `${listPrefix}.${spec.index}` (e.g. `encoder.blocks.3`).
 */
export function runBlock<T>(ops: Ops<T>, x: T, listPrefix: string, spec: BlockSpec, size: SpatialSize, norm: NormSettings): { y: T; size: SpatialSize } {
  const prefix = `${listPrefix}.${spec.index}`;
  const { height, width } = size;
  switch (spec.kind) {
    case 'Conv2d':
      return { y: conv3x3(ops, x, prefix), size };
    case 'GroupNorm':
      return { y: normalize(ops, x, prefix, { channels: spec.inChannels, height, width }, norm), size };
    case 'ResBlock':
      return { y: resBlock(ops, x, prefix, { inChannels: spec.inChannels, outChannels: spec.outChannels, height, width }, norm), size };
    case 'AttnBlock':
      return { y: attnBlock(ops, x, prefix, { channels: spec.inChannels, height, width }, norm), size };
    case 'Downsample':
      return { y: downsample(ops, x, prefix), size: { height: height / 2, width: width / 2 } };
    case 'Upsample':
      return { y: upsample(ops, x, prefix), size: { height: height * 2, width: width * 2 } };
  }
}

/** Callback receiving intermediate block outputs, named like the fixtures (`enc02_Downsample`, `gen14_Conv2d`). */
export type BlockTap<T> = (name: string, value: T) => void;

/**
 * Runs every block of `plan` in order on NCHW input `x` of size `size` (parameters under `${listPrefix}.${index}`)
 * and returns the last output; `tap` receives each block output under its fixture name with `tag`.
 */
export function runPlan<T>(
  ops: Ops<T>,
  x: T,
  plan: readonly BlockSpec[],
  listPrefix: string,
  tag: 'enc' | 'gen',
  size: SpatialSize,
  norm: NormSettings,
  tap?: BlockTap<T>,
): T {
  let y = x;
  let s = size;
  for (const spec of plan) {
    const r = runBlock(ops, y, listPrefix, spec, s, norm);
    y = r.y;
    s = r.size;
    tap?.(blockOutputName(tag, spec), y);
  }
  return y;
}

/** Fixture-style name of a block output: `${tag}${two-digit index}_${kind}`. */
export function blockOutputName(tag: 'enc' | 'gen', spec: BlockSpec): string {
  return `${tag}${String(spec.index).padStart(2, '0')}_${spec.kind}`;
}

/**
 * Names and shapes (OIHW for convs) of the parameters of one block under `prefix`. ResBlocks always list
 * `conv_out` when `includeUnused` is set (official checkpoints contain it even when it is unused, i = o).
 */
export function blockParameterShapes(prefix: string, spec: BlockSpec, includeUnused: boolean): [string, number[]][] {
  const i = spec.inChannels;
  const o = spec.outChannels;
  switch (spec.kind) {
    case 'Conv2d':
      return [
        [`${prefix}.weight`, [o, i, 3, 3]],
        [`${prefix}.bias`, [o]],
      ];
    case 'GroupNorm':
      return [
        [`${prefix}.weight`, [i]],
        [`${prefix}.bias`, [i]],
      ];
    case 'Downsample':
    case 'Upsample':
      return [
        [`${prefix}.conv.weight`, [o, i, 3, 3]],
        [`${prefix}.conv.bias`, [o]],
      ];
    case 'AttnBlock': {
      const out: [string, number[]][] = [
        [`${prefix}.norm.weight`, [i]],
        [`${prefix}.norm.bias`, [i]],
      ];
      for (const n of ['q', 'k', 'v', 'proj_out']) out.push([`${prefix}.${n}.weight`, [i, i, 1, 1]], [`${prefix}.${n}.bias`, [i]]);
      return out;
    }
    case 'ResBlock': {
      const out: [string, number[]][] = [
        [`${prefix}.norm1.weight`, [i]],
        [`${prefix}.norm1.bias`, [i]],
        [`${prefix}.conv1.weight`, [o, i, 3, 3]],
        [`${prefix}.conv1.bias`, [o]],
        [`${prefix}.norm2.weight`, [o]],
        [`${prefix}.norm2.bias`, [o]],
        [`${prefix}.conv2.weight`, [o, o, 3, 3]],
        [`${prefix}.conv2.bias`, [o]],
      ];
      if (i !== o || includeUnused) out.push([`${prefix}.conv_out.weight`, [o, i, 1, 1]], [`${prefix}.conv_out.bias`, [o]]);
      return out;
    }
  }
}
