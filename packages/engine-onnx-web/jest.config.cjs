const path = require('node:path');
const base = require('../../jest.preset.cjs')(__dirname);
// Tests run TypeScript sources: map the graph entry of @bigr/engine-onnx to its source too (the preset maps only
// bare package names), so no build is needed.
module.exports = {
  ...base,
  moduleNameMapper: { '^@bigr/engine-onnx/graph$': path.join(__dirname, '../engine-onnx/src/graph.ts'), ...base.moduleNameMapper },
};
