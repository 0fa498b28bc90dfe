import { at, type Ops } from '@bigr/core';
import { runPlan, type BlockSpec, type BlockTap, type SpatialSize } from './blockPlan.js';
import { downsampleFactor, type BaeConfig } from './config.js';

/**
 * The official `Generator.blocks` list (docs/algorithm.md §1.5): [GroupNorm(embDim) when `normFirst`], conv3×3(embDim →
 * nf·chMult[-1]), ResBlock, AttnBlock, ResBlock; then for the levels in reverse `res_blocks` × [ResBlock
 * (+ AttnBlock at attention resolutions)] and an Upsample except after level 0; then GroupNorm and conv3×3 to the
 * image channels. No output activation. The unused `generator.logsigma` head is not part of the plan.
 */
export function decoderPlan(config: BaeConfig): BlockSpec[] {
  const blocks: BlockSpec[] = [];
  const push = (kind: BlockSpec['kind'], inChannels: number, outChannels: number): void => {
    blocks.push({ index: blocks.length, kind, inChannels, outChannels });
  };
  const { nf, chMult } = config;
  // validateConfig rejects an empty chMult.
  let ch = nf * at(chMult, chMult.length - 1, 'chMult of the deepest level');
  let res = Math.floor(config.resolution / downsampleFactor(config));
  if (config.normFirst) push('GroupNorm', config.embDim, config.embDim);
  push('Conv2d', config.embDim, ch);
  push('ResBlock', ch, ch);
  push('AttnBlock', ch, ch);
  push('ResBlock', ch, ch);
  for (const [i, mult] of [...chMult.entries()].reverse()) {
    const outCh = nf * mult;
    for (let r = 0; r < config.resBlocks; r++) {
      push('ResBlock', ch, outCh);
      ch = outCh;
      if (config.attnResolutions.includes(res)) push('AttnBlock', ch, ch);
    }
    if (i !== 0) {
      push('Upsample', ch, ch);
      res *= 2;
    }
  }
  push('GroupNorm', ch, ch);
  push('Conv2d', ch, config.inChannels);
  return blocks;
}

/**
 * Decoder ("generator") forward: quantized features [B, embDim, h, w] → images [B, C, h·f, w·f], not clamped
 * (`generator.blocks.*` parameters). `tap` receives every block output (fixture names `genNN_Kind`).
 */
export function decoder<T>(ops: Ops<T>, quant: T, config: BaeConfig, latent: SpatialSize, tap?: BlockTap<T>): T {
  return runPlan(ops, quant, decoderPlan(config), 'generator.blocks', 'gen', latent, { groups: config.normGroups, eps: config.normEps }, tap);
}
