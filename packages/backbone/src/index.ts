/**
 * @bigr/backbone — the BiGR backbone (docs/algorithm.md §2): a Llama transformer with bidirectional attention over binary
 * tokens, written once against core `Ops` so it trains on tfjs and exports to ONNX. Includes presets (paper Table 7
 * and small CPU sizes), official state-dict names, initialisation, the masked-modelling training step (§5), the
 * representation extractor (§7.1), and a core `TokenFeatureModel` implementation.
 * @packageDocumentation
 */
// The browser-safe modules (browser.ts, the package's 'default' export condition), then the Node-only ones.
export * from './browser.js';
export * from './backboneTrainer.js';
