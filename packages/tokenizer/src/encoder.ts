import type { Ops } from '@bigr/core';
import { runPlan, type BlockSpec, type BlockTap, type SpatialSize } from './blockPlan.js';
import type { BaeConfig } from './config.js';

/**
 * The official `Encoder.blocks` list for a config (docs/algorithm.md §1.3): conv_in; per level `res_blocks` ×
 * [ResBlock (+ AttnBlock when the level's nominal resolution is in `attnResolutions`)], then a Downsample except
 * after the last level; then ResBlock, AttnBlock, ResBlock, GroupNorm and conv3×3 to `embDim`.
 */
export function encoderPlan(config: BaeConfig): BlockSpec[] {
  const blocks: BlockSpec[] = [];
  const push = (kind: BlockSpec['kind'], inChannels: number, outChannels: number): void => {
    blocks.push({ index: blocks.length, kind, inChannels, outChannels });
  };
  const { nf, chMult } = config;
  let res = config.resolution;
  push('Conv2d', config.inChannels, nf);
  let ch = nf;
  // Level i starts from the previous level's width (nf before the first level).
  let inMult = 1;
  for (const [i, mult] of chMult.entries()) {
    ch = nf * inMult;
    inMult = mult;
    const outCh = nf * mult;
    for (let r = 0; r < config.resBlocks; r++) {
      push('ResBlock', ch, outCh);
      ch = outCh;
      if (config.attnResolutions.includes(res)) push('AttnBlock', ch, ch);
    }
    if (i !== chMult.length - 1) {
      push('Downsample', ch, ch);
      res = Math.floor(res / 2);
    }
  }
  push('ResBlock', ch, ch);
  push('AttnBlock', ch, ch);
  push('ResBlock', ch, ch);
  push('GroupNorm', ch, ch);
  push('Conv2d', ch, config.embDim);
  return blocks;
}

/**
 * Encoder forward: images [B, C, H, W] in [0, 1] → pre-quantizer features [B, embDim, H/f, W/f]
 * (`encoder.blocks.*` parameters). `tap` receives every block output (fixture names `encNN_Kind`).
 */
export function encoder<T>(ops: Ops<T>, images: T, config: BaeConfig, size: SpatialSize, tap?: BlockTap<T>): T {
  return runPlan(ops, images, encoderPlan(config), 'encoder.blocks', 'enc', size, { groups: config.normGroups, eps: config.normEps }, tap);
}
