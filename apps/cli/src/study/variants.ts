/**
 * The models of the paper-in-miniature study (paper Tables 1–4, docs/algorithm.md §13): which objective, attention
 * and conditioning each one trains with. All share one tokenizer and one compute budget (steps × batch).
 */
import type { TranscoderTarget } from '@bigr/transcoder';

/** One trained model of the study. */
export interface StudyVariant {
  /** Short id, used for directories and piece names. */
  readonly id: string;
  /** Row label in the report. */
  readonly label: string;
  /** Objective: 'binary' (transcoder with `target`) or 'categorical' (2^K softmax head). */
  readonly objective: 'binary' | 'categorical';
  /** Transcoder target of a binary objective. */
  readonly target: TranscoderTarget;
  /** Modelling type: masked (bidirectional) or autoregressive (causal, raster order). */
  readonly modelling: 'mask' | 'ar';
  /** Trained with the class token replaced by the single unconditional (null) token. */
  readonly unconditional: boolean;
}

/** Every variant the tables need, in training order (S3 first: Tables 2–4 and Figure 3 reuse it). */
export const STUDY_VARIANTS: readonly StudyVariant[] = Object.freeze([
  { id: 's3', label: 'S3 (bin., mask = BiGR)', objective: 'binary', target: 'xor', modelling: 'mask', unconditional: false },
  { id: 's2', label: 'S2 (bin., AR)', objective: 'binary', target: 'xor', modelling: 'ar', unconditional: false },
  { id: 's1', label: 'S1 (cat., mask)', objective: 'categorical', target: 'xor', modelling: 'mask', unconditional: false },
  { id: 's0', label: 'S0 (cat., AR)', objective: 'categorical', target: 'xor', modelling: 'ar', unconditional: false },
  { id: 'bce', label: 'direct BCE', objective: 'binary', target: 'direct', modelling: 'mask', unconditional: false },
  { id: 'z0', label: 'predict z0', objective: 'binary', target: 'z0', modelling: 'mask', unconditional: false },
  { id: 'uncond', label: 'S3 unconditional', objective: 'binary', target: 'xor', modelling: 'mask', unconditional: true },
]);

/** The variant with this id (throws for an unknown id). */
export function studyVariant(id: string): StudyVariant {
  const v = STUDY_VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`internal: unknown study variant ${id}`);
  return v;
}
