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
 * The blocks of one official module list (`encoder.blocks` or `generator.blocks`) in the order a forward pass walks
 * them: every call appends the next block, whose index in the list is its position (the state-dict key
 * `…blocks.{index}`, docs/algorithm.md §10.2), and returns its output. `H` is the value passed between blocks: a
 * tensor when the blocks run ({@link runningSequence}), nothing when the walk only records the plan
 * ({@link recordPlan}). So one walk is both the forward pass and the plan the parameter tables are built from.
 */
export interface BlockSequence<H> {
  /** Conv3×3 with padding 1 (`Conv2d`), `inChannels` → `outChannels`. */
  conv3x3(x: H, inChannels: number, outChannels: number): H;
  /** GroupNorm (`GroupNorm`) over `channels`. */
  groupNorm(x: H, channels: number): H;
  /** `ResBlock(inChannels, outChannels)`. */
  resBlock(x: H, inChannels: number, outChannels: number): H;
  /** `AttnBlock(channels)`. */
  attnBlock(x: H, channels: number): H;
  /** `Downsample(channels)`: halves H and W. */
  downsample(x: H, channels: number): H;
  /** `Upsample(channels)`: doubles H and W. */
  upsample(x: H, channels: number): H;
}

/** A {@link BlockSequence} that numbers the blocks from 0 and hands each one's spec and input to `step`. */
export function blockSequence<H>(step: (spec: BlockSpec, x: H) => H): BlockSequence<H> {
  let index = 0;
  const block = (kind: BlockKind, x: H, inChannels: number, outChannels: number): H => step({ index: index++, kind, inChannels, outChannels }, x);
  return {
    conv3x3: (x, inChannels, outChannels) => block('Conv2d', x, inChannels, outChannels),
    groupNorm: (x, channels) => block('GroupNorm', x, channels, channels),
    resBlock: (x, inChannels, outChannels) => block('ResBlock', x, inChannels, outChannels),
    attnBlock: (x, channels) => block('AttnBlock', x, channels, channels),
    downsample: (x, channels) => block('Downsample', x, channels, channels),
    upsample: (x, channels) => block('Upsample', x, channels, channels),
  };
}

/** The plan of a walk over a {@link BlockSequence}: every block's spec, in order, without running anything. */
export function recordPlan(walk: (blocks: BlockSequence<null>) => unknown): BlockSpec[] {
  const plan: BlockSpec[] = [];
  walk(
    blockSequence<null>((spec) => {
      plan.push(spec);
      return null;
    }),
  );
  return plan;
}

/**
 * A {@link BlockSequence} that runs each block with {@link runBlock} on NCHW input, starting at spatial size `size`
 * (parameters under `${listPrefix}.${index}`); `tap` receives each block output under its fixture name with `tag`.
 */
export function runningSequence<T>(
  ops: Ops<T>,
  listPrefix: string,
  tag: 'enc' | 'gen',
  size: SpatialSize,
  norm: NormSettings,
  tap?: BlockTap<T>,
): BlockSequence<T> {
  let s = size;
  return blockSequence<T>((spec, x) => {
    const r = runBlock(ops, x, listPrefix, spec, s, norm);
    s = r.size;
    tap?.(blockOutputName(tag, spec), r.y);
    return r.y;
  });
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
