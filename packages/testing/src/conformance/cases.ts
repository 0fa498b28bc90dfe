import type { Ops } from '@bigr/core';
import { BLOCK_CASES } from './blockCases.js';
import { LAYER_CASES } from './layerCases.js';
import { OP_CASES } from './opCases.js';
import { PRIMITIVE_CASES } from './primitiveCases.js';
import type { ConformanceCase } from './types.js';

/** The full conformance table: every `Ops` op, every core layer and the composite blocks. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [...OP_CASES, ...PRIMITIVE_CASES, ...LAYER_CASES, ...BLOCK_CASES];

/** Every method of the core `Ops` interface; the suite checks that its cases call each one. */
export const OPS_METHODS = [
  'param',
  'hasParam',
  'constant',
  'constantInt',
  'scalar',
  'add',
  'sub',
  'mul',
  'div',
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'square',
  'sigmoid',
  'silu',
  'tanh',
  'relu',
  'sin',
  'cos',
  'mean',
  'sum',
  'reshape',
  'transpose',
  'concat',
  'slice',
  'matMul',
  'softmax',
  'gather',
  'conv2d',
  'upsampleNearest2x',
  'dropout',
  'abs',
  'maximum',
  'step',
  'stopGradient',
  'broadcastTo',
  'scatterAddRows',
  'conv2dInputGrad',
  'conv2dWeightGrad',
] as const satisfies readonly Exclude<keyof Ops<unknown>, 'engine' | 'training'>[];

// Compile-time completeness: adding a method to `Ops` without listing it here is a type error.
type MissingOps = Exclude<keyof Ops<unknown>, 'engine' | 'training' | (typeof OPS_METHODS)[number]>;
const OPS_METHODS_COMPLETE: [MissingOps] extends [never] ? true : MissingOps = true;
void OPS_METHODS_COMPLETE;
