import { at, required } from '@bigr/core';
import { CONFORMANCE_CASES, OPS_METHODS } from './cases.js';
import { CONFORMANCE_ENGINES, ENGINE_CASE_LISTS } from './engineLists.js';
import { CONFORMANCE_TOLERANCE, formatCaseResult, formatSummary, prepareCase, runConformance, type ConformanceReport } from './runner.js';
import { FLOAT64_REFERENCE_ENGINE, runReferenceGraph } from '../reference/referenceOps.js';

// Criterion: for every case, output and feed set, |engine − float64 reference| ≤ 1e-5·(1 + |reference|) element-wise
// (atol = rtol = 1e-5), and the output shape equals the reference shape.
const CASE_NAMES = CONFORMANCE_CASES.map((c) => c.name);

test('case names are unique and the criterion is 1e-5·(1 + |ref|)', () => {
  expect(new Set(CASE_NAMES).size).toBe(CASE_NAMES.length);
  expect(CONFORMANCE_TOLERANCE).toEqual({ rtol: 1e-5, atol: 1e-5 });
});

test('the cases call every method of the core Ops interface', () => {
  const called = new Set<string>();
  for (const c of CONFORMANCE_CASES) {
    const { data } = prepareCase(c);
    for (const op of runReferenceGraph(c.graph, data.params, at(data.feeds, 0, 'first feed set')).opsCalled) called.add(op);
  }
  expect(OPS_METHODS.filter((m) => !called.has(m))).toEqual([]);
});

test('the float64 graphs match the independent references to 1e-10 (graph definitions are right)', async () => {
  const report = await runConformance([FLOAT64_REFERENCE_ENGINE], { tolerance: { rtol: 1e-10, atol: 1e-10 } });
  expect(report.results.filter((r) => r.status !== 'pass').map(formatCaseResult)).toEqual([]);
});

test('engine include/exclude lists name existing cases', () => {
  for (const list of Object.values(ENGINE_CASE_LISTS)) {
    for (const name of [...(list.include ?? []), ...(list.exclude ?? []).map((e) => e.case)]) expect(CASE_NAMES).toContain(name);
  }
});

describe.each(CONFORMANCE_ENGINES)('%s matches the float64 reference', (engine) => {
  let report: ConformanceReport;
  beforeAll(async () => {
    report = await runConformance([engine]);
  });

  test('summary', () => {
    // Printed only on failure, as part of the assertion message.
    expect({ summary: formatSummary(report), passed: report.passed }).toEqual({ summary: formatSummary(report), passed: true });
  });

  test.each(CASE_NAMES)('%s', (name) => {
    const r = required(
      report.results.find((x) => x.case === name),
      `result of case "${name}"`,
    );
    if (r.status === 'skipped') {
      // Documented in ENGINE_CASE_LISTS; an excluded case that passes means the exclusion should be removed.
      expect(r.excludedOutcome === 'pass' ? `stale exclusion, remove it from ENGINE_CASE_LISTS: ${formatCaseResult(r)}` : 'excluded').toBe('excluded');
      return;
    }
    expect(r.status === 'pass' ? 'pass' : formatCaseResult(r)).toBe('pass');
  });
});
