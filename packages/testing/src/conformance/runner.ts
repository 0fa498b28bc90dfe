/**
 * Runs the conformance table on named engines and compares every output with its float64 reference.
 *
 * Criterion (per element, every output, every feed set): |engine − reference| ≤ atol + rtol·|reference| with
 * atol = rtol = 1e-5, i.e. |a − r| ≤ 1e-5·(1 + |r|), and the output shape must equal the reference shape. The
 * reference is computed in float64 from the very float32 parameters and inputs the engine receives.
 */
import { at, createRng, resolveEngine, type CompiledGraph, type CpuTensor, type NamedTensors, type Seed } from '@bigr/core';
import { compareClose, describeMismatch, type Tolerance } from '../expectClose.js';
import { FLOAT64_REFERENCE_ENGINE, runReferenceGraph } from '../reference/referenceOps.js';
import type { F64Array } from '../reference/ndarray.js';
import { CONFORMANCE_CASES } from './cases.js';
import { ENGINE_CASE_LISTS, caseSelection, type EngineCaseList } from './engineLists.js';
import type { ConformanceCase, ConformanceCaseData, ConformanceGroup, Feeds } from './types.js';

/** The conformance tolerance: |a − r| ≤ 1e-5 + 1e-5·|r|. */
export const CONFORMANCE_TOLERANCE: Tolerance = Object.freeze({ rtol: 1e-5, atol: 1e-5 });

/** Root seed of the case data; each case draws from `createRng(seed).fork(caseName)`. */
export const CONFORMANCE_SEED = 'bigr-conformance-v1';

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Cases to run (default: {@link CONFORMANCE_CASES}). */
  readonly cases?: readonly ConformanceCase[];
  /** Tolerance (default {@link CONFORMANCE_TOLERANCE}). */
  readonly tolerance?: Tolerance;
  /** Root seed (default {@link CONFORMANCE_SEED}). */
  readonly seed?: Seed;
  /** Per-engine include/exclude lists (default {@link ENGINE_CASE_LISTS}). */
  readonly caseLists?: Readonly<Record<string, EngineCaseList>>;
}

/** Comparison of one output of one feed set. */
export interface OutputCheck {
  /** Output name. */
  readonly output: string;
  /** Index of the feed set (e.g. batch size variant). */
  readonly feedSet: number;
  /** Shape the engine produced. */
  readonly shape: readonly number[];
  /** Shape of the reference. */
  readonly expectedShape: readonly number[];
  /** Whether the output meets the criterion (shape and values). */
  readonly passed: boolean;
  /** Largest |engine − reference|. */
  readonly maxAbsDiff: number;
  /** Largest |engine − reference| / (atol + rtol·|reference|); ≤ 1 passes. */
  readonly maxRatio: number;
  /** Explanation when it failed. */
  readonly message?: string;
}

/** Outcome of one case on one engine. */
export type CaseStatus = 'pass' | 'fail' | 'skipped' | 'error';

/** Result of one case on one engine. */
export interface CaseResult {
  /** Engine name. */
  readonly engine: string;
  /** Case name. */
  readonly case: string;
  /** Case group. */
  readonly group: ConformanceGroup;
  /** pass / fail (numbers or shapes off) / skipped (excluded) / error (threw). */
  readonly status: CaseStatus;
  /** Skip reason or error message. */
  readonly reason?: string;
  /** For a case skipped by an exclusion: what actually happened when it was run anyway ('pass' means the exclusion is stale). */
  readonly excludedOutcome?: CaseStatus;
  /** Every output of every feed set. */
  readonly checks: readonly OutputCheck[];
  /** Largest ratio over all checks (0 when none ran). */
  readonly maxRatio: number;
  /** Largest absolute difference over all checks. */
  readonly maxAbsDiff: number;
  /** Wall time of compile + runs, in milliseconds (informational). */
  readonly millis: number;
}

/** Per-engine totals. */
export interface EngineSummary {
  /** Engine name. */
  readonly engine: string;
  /** Cases that passed. */
  readonly passed: number;
  /** Cases that failed the criterion. */
  readonly failed: number;
  /** Cases that threw. */
  readonly errors: number;
  /** Cases skipped by the include/exclude lists. */
  readonly skipped: number;
  /** Largest ratio over every passed or failed case. */
  readonly maxRatio: number;
}

/** Result of {@link runConformance}. */
export interface ConformanceReport {
  /** Tolerance used. */
  readonly tolerance: Tolerance;
  /** One entry per (engine, case), engines in the order given. */
  readonly results: readonly CaseResult[];
  /** Totals per engine. */
  readonly engines: readonly EngineSummary[];
  /** True when no case failed or errored. */
  readonly passed: boolean;
}

interface PreparedCase {
  readonly data: ConformanceCaseData;
  readonly references: readonly Record<string, F64Array>[];
}

const prepared = new WeakMap<ConformanceCase, Map<string, PreparedCase>>();

/** Draws a case's data from `createRng(seed).fork(case.name)` and computes its references (cached per case and seed). */
export function prepareCase(c: ConformanceCase, seed: Seed = CONFORMANCE_SEED): PreparedCase {
  let bySeed = prepared.get(c);
  if (!bySeed) {
    bySeed = new Map();
    prepared.set(c, bySeed);
  }
  const key = String(seed);
  let p = bySeed.get(key);
  if (!p) {
    const data = c.setup(createRng(seed).fork(c.name));
    p = { data, references: data.feeds.map((f) => c.reference(data.params, f)) };
    bySeed.set(key, p);
  }
  return p;
}

type RunOutputs = Record<string, { readonly data: ArrayLike<number>; readonly shape: readonly number[]; readonly dtype?: string }>;

interface Runner {
  run(feeds: Feeds): Promise<RunOutputs>;
  dispose(): Promise<void>;
}

interface Backend {
  compile(c: ConformanceCase, params: NamedTensors): Promise<Runner>;
}

function referenceBackend(): Backend {
  return {
    async compile(c, params) {
      return {
        run: async (feeds) => runReferenceGraph(c.graph, params, feeds).outputs,
        dispose: async () => undefined,
      };
    },
  };
}

async function engineBackend(name: string): Promise<Backend> {
  const engine = await resolveEngine({ purpose: 'inference', device: name });
  return {
    async compile(c, params) {
      const compiled: CompiledGraph = await engine.compile(c.graph, params);
      return {
        run: (feeds) => compiled.run(feeds as Readonly<Record<string, CpuTensor>>),
        dispose: () => compiled.dispose(),
      };
    },
  };
}

function firstLine(err: unknown): string {
  return at(String((err as Error)?.message ?? err).split('\n'), 0, 'first line of an error message');
}

function check(output: string, feedSet: number, got: RunOutputs[string] | undefined, ref: F64Array, tol: Tolerance, what: string): OutputCheck {
  const expectedShape = ref.shape;
  const shape = got ? [...got.shape] : [];
  /** A failed check that never reached the value comparison (missing output, wrong shape or dtype). */
  const fail = (message: string): OutputCheck => ({
    output,
    feedSet,
    shape,
    expectedShape,
    passed: false,
    maxAbsDiff: NaN,
    maxRatio: Infinity,
    message: `${what}: ${message}`,
  });
  if (!got) return fail(`the engine returned no output "${output}".`);
  if (shape.length !== expectedShape.length || shape.some((d, i) => d !== expectedShape[i])) {
    return fail(`shape [${shape.join(', ')}] but the reference has [${expectedShape.join(', ')}].`);
  }
  if (got.dtype !== undefined && got.dtype !== 'float32') return fail(`dtype ${got.dtype}, expected float32.`);
  const c = compareClose(got.data, ref.data, tol);
  const passed = c.mismatches === 0;
  return {
    output,
    feedSet,
    shape,
    expectedShape,
    passed,
    maxAbsDiff: c.maxAbsDiff,
    maxRatio: c.maxRatio,
    ...(passed ? {} : { message: describeMismatch(c, got.data, ref.data, tol, what, shape) }),
  };
}

async function runCase(backend: Backend, engine: string, c: ConformanceCase, seed: Seed, tol: Tolerance): Promise<CaseResult> {
  const started = performance.now();
  const base = { engine, case: c.name, group: c.group };
  let p: PreparedCase;
  try {
    p = prepareCase(c, seed);
  } catch (err) {
    return { ...base, status: 'error', reason: `case setup/reference failed: ${firstLine(err)}`, checks: [], maxRatio: 0, maxAbsDiff: 0, millis: 0 };
  }
  const checks: OutputCheck[] = [];
  let runner: Runner | null = null;
  try {
    runner = await backend.compile(c, p.data.params);
    for (const [i, feeds] of p.data.feeds.entries()) {
      const outputs = await runner.run(feeds);
      for (const [name, ref] of Object.entries(at(p.references, i, 'references of a feed set'))) {
        checks.push(check(name, i, outputs[name], ref, tol, `${engine} / ${c.name} / output "${name}" / feed set ${i}`));
      }
    }
  } catch (err) {
    return { ...base, status: 'error', reason: `${engine} threw: ${firstLine(err)}`, checks, maxRatio: 0, maxAbsDiff: 0, millis: performance.now() - started };
  } finally {
    if (runner) await runner.dispose();
  }
  const maxRatio = checks.reduce((m, k) => Math.max(m, k.maxRatio), 0);
  const maxAbsDiff = checks.reduce((m, k) => (Number.isNaN(k.maxAbsDiff) ? NaN : Math.max(m, k.maxAbsDiff)), 0);
  const status = checks.every((k) => k.passed) ? 'pass' : 'fail';
  return { ...base, status, checks, maxRatio, maxAbsDiff, millis: performance.now() - started };
}

/**
 * Runs every case on every named engine (resolved with `resolveEngine({ purpose: 'inference', device: name })`;
 * {@link FLOAT64_REFERENCE_ENGINE} evaluates the graphs in float64 instead, which checks the graph definitions
 * against the independent references). Never throws for engine failures: an engine that cannot be created marks
 * its cases as errors with the reason.
 */
export async function runConformance(engineNames: readonly string[], options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const cases = options.cases ?? CONFORMANCE_CASES;
  const tol = options.tolerance ?? CONFORMANCE_TOLERANCE;
  const seed = options.seed ?? CONFORMANCE_SEED;
  const lists = options.caseLists ?? ENGINE_CASE_LISTS;
  const results: CaseResult[] = [];
  const engines: EngineSummary[] = [];
  for (const engine of engineNames) {
    let backend: Backend | null = null;
    let unavailable = '';
    try {
      backend = engine === FLOAT64_REFERENCE_ENGINE ? referenceBackend() : await engineBackend(engine);
    } catch (err) {
      unavailable = `engine "${engine}" is unavailable: ${firstLine(err)}`;
    }
    const mine: CaseResult[] = [];
    for (const c of cases) {
      const sel = caseSelection(engine, c.name, lists);
      const empty = { engine, case: c.name, group: c.group, checks: [], maxRatio: 0, maxAbsDiff: 0, millis: 0 };
      if (!sel.run) mine.push({ ...empty, status: 'skipped', reason: sel.excluded ? sel.reason : '' });
      else if (!backend) mine.push({ ...empty, status: 'error', reason: unavailable });
      else {
        const r = await runCase(backend, engine, c, seed, tol);
        // Excluded cases run anyway; their real outcome is kept so stale exclusions can be spotted.
        mine.push(sel.excluded ? { ...r, status: 'skipped', reason: sel.reason, excludedOutcome: r.status, maxRatio: 0 } : r);
      }
    }
    results.push(...mine);
    const count = (s: CaseStatus): number => mine.filter((r) => r.status === s).length;
    engines.push({
      engine,
      passed: count('pass'),
      failed: count('fail'),
      errors: count('error'),
      skipped: count('skipped'),
      maxRatio: mine.reduce((m, r) => Math.max(m, r.maxRatio), 0),
    });
  }
  return { tolerance: tol, results, engines, passed: results.every((r) => r.status === 'pass' || r.status === 'skipped') };
}

/** One-paragraph description of a case result (failed checks spelled out). */
export function formatCaseResult(r: CaseResult): string {
  const head = `[${r.engine}] ${r.case}: ${r.status}`;
  if (r.status === 'skipped') return `${head} — ${r.reason ?? ''}${r.excludedOutcome ? ` (when run anyway: ${r.excludedOutcome})` : ''}`;
  if (r.status === 'error') return `${head} — ${r.reason ?? ''}`;
  const worst = `max |diff| ${r.maxAbsDiff.toExponential(2)}, ${(100 * r.maxRatio).toFixed(1)}% of the allowance`;
  const failures = r.checks.filter((k) => !k.passed).map((k) => `  ${k.message ?? k.output}`);
  return [`${head} (${worst})`, ...failures].join('\n');
}

/** A plain-text table of the per-engine totals. */
export function formatSummary(report: ConformanceReport): string {
  const t = report.tolerance;
  const lines = report.engines.map(
    (e) =>
      `${e.engine.padEnd(18)} pass ${e.passed}, fail ${e.failed}, error ${e.errors}, skipped ${e.skipped}; ` +
      `worst ${(100 * e.maxRatio).toFixed(1)}% of allowance`,
  );
  return [`criterion |a − r| ≤ ${t.atol} + ${t.rtol}·|r|`, ...lines].join('\n');
}
