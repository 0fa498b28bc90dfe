/**
 * @bigr/testing (private) — shared test support for the BiGR packages: official-tiny fixture access, a closeness
 * assertion with helpful messages, seeded random tensors, naive float64 reference implementations of every core
 * op, layer and composite block (`reference`), and the cross-engine conformance suite (`runConformance`).
 * @packageDocumentation
 */
export { fixtureDir, fixturePath, loadFixture, loadJsonFixture, parsePythonJson, OFFICIAL_TINY_DIR } from './fixtures.js';
export { expectClose, compareClose, describeMismatch, relativeL2, relativeMaxError, maxAbsDiff, DEFAULT_TOLERANCE } from './expectClose.js';
export { named } from './named.js';
export type { Tolerance, ExpectCloseOptions, CloseComparison } from './expectClose.js';
export { randomTensor, randomUniformTensor } from './randomTensor.js';
export * as reference from './reference/index.js';
export type { F64Array } from './reference/ndarray.js';
export { Float64Ops, FLOAT64_REFERENCE_ENGINE, runReferenceGraph } from './reference/referenceOps.js';
export * from './conformance/index.js';
