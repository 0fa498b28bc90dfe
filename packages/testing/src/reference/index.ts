/**
 * Naive float64 reference implementations of every core `Ops` op, of the core layers and of the BiGR composite
 * blocks (Llama block with adaLN, adaLN MLP block), written independently of the engines and component packages.
 * @packageDocumentation
 */
export * from './ndarray.js';
export * from './elementwise.js';
export * from './reductions.js';
export * from './shapeOps.js';
export * from './matMul.js';
export * from './nn.js';
export * from './layers.js';
export * from './rope.js';
export * from './llamaBlock.js';
export * from './adaLnMlpBlock.js';
export * from './referenceOps.js';
