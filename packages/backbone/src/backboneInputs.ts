import { ConfigError, type InputSpec } from '@bigr/core';
import type { BackboneConfig } from './config.js';

/**
 * How the condition enters a backbone graph:
 * - `'labels'`: int32 class indices [B] (`labels`), looked up in the class table (inference; exports to ONNX Gather);
 * - `'classWeights'`: float32 weights over the C+1 table rows [B, C+1] (`class_weights`), multiplied with the table.
 *   A one-hot row is a class; w/(1−w) on two rows is class interpolation (docs/algorithm.md §8.2). Used for training, because
 *   its gradient is a plain matMul on every engine;
 * - `'embedding'`: a given condition vector [B, D] (`cond_embedding`), e.g. a pooled text embedding; it is repeated
 *   `clsTokenNum` times and also drives the shared adaLN, exactly like a class embedding;
 * - `'tokens'`: a sequence of `clsTokenNum` condition tokens [B, clsTokenNum, D] (`cond_tokens`), the text-to-image
 *   layout of docs/algorithm.md §9 (e.g. 120 projected T5 tokens). It requires `useAdaLN = false`, as in the paper.
 */
export type ConditionInputKind = 'labels' | 'classWeights' | 'embedding' | 'tokens';

/** Graph input names used by the backbone graphs. */
export const BACKBONE_INPUTS = {
  bits: 'bits',
  mask: 'mask',
  labels: 'labels',
  classWeights: 'class_weights',
  embedding: 'cond_embedding',
  tokens: 'cond_tokens',
} as const;

/** Name of the condition input for a {@link ConditionInputKind}. */
export function conditionInputName(kind: ConditionInputKind): string {
  return BACKBONE_INPUTS[kind];
}

/** Input declaration of the condition input. */
export function conditionInputSpec(config: BackboneConfig, kind: ConditionInputKind): InputSpec {
  if (kind === 'labels') return { name: BACKBONE_INPUTS.labels, dtype: 'int32', shape: ['batch'] };
  if (kind === 'classWeights') return { name: BACKBONE_INPUTS.classWeights, dtype: 'float32', shape: ['batch', config.numClasses + 1] };
  if (kind === 'tokens') {
    if (config.useAdaLN) {
      throw new ConfigError(
        `Condition kind 'tokens' (a sequence of ${config.clsTokenNum} condition tokens) needs useAdaLN = false (docs/algorithm.md §9); ` +
          `use 'embedding' for one vector per sample.`,
      );
    }
    return { name: BACKBONE_INPUTS.tokens, dtype: 'float32', shape: ['batch', config.clsTokenNum, config.dim] };
  }
  return { name: BACKBONE_INPUTS.embedding, dtype: 'float32', shape: ['batch', config.dim] };
}
