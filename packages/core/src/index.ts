/**
 * @bigr/core — the shared interfaces of the BiGR packages: tensors, packed binary codes, the seeded RNG,
 * safetensors I/O and model directories, errors, progress events, the op interface layers are written
 * against, and engine selection.
 * Browser bundles get the browser-safe subset (`browser.ts`) through the package's export conditions.
 * @packageDocumentation
 */
export * from './browser.js';
// Node-only: file I/O and checkpointing (not in the browser entry, browser.ts).
export * from './safetensors.js';
export * from './atomicWrite.js';
export * from './modelDirectory.js';
export * from './tensorHash.js';
export * from './trainer.js';
export { openForRead, readExactly, pathExists } from './fileRead.js';
export { readBoundedFile } from './boundedRead.js';
export * from './idx.js';
