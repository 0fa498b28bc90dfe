/**
 * Which engines the conformance suite runs, and per-engine include/exclude lists.
 *
 * `exclude` names cases an engine does not support, each with the reason. Excluded cases are still run and
 * reported as `skipped` together with their actual outcome, so an exclusion that has become unnecessary (the case
 * now passes) is flagged by the test suite and can be removed. `include`, when given, restricts an engine to the
 * listed cases (those not listed are not run at all).
 */

/** The engines every layer must agree on: tfjs on wasm and on the pure-JS cpu backend, and onnxruntime (CPU). */
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

/** Per-engine include/exclude lists, keyed by engine name. */
export const ENGINE_CASE_LISTS: Readonly<Record<string, EngineCaseList>> = Object.freeze({
  // Empty: every case runs on every engine. (tfjs' BatchMatMul mis-sizes mutually broadcast batches; TfjsOps.matMul
  // broadcasts both operands explicitly, so that case now passes on tfjs too.)
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
