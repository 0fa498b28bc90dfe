export * from './types.js';
export * from './cases.js';
export * from './engineLists.js';
export * from './runner.js';
export { OP_CASES } from './opCases.js';
export { LAYER_CASES } from './layerCases.js';
export { BLOCK_CASES } from './blockCases.js';
