// @swc/jest compiles TypeScript to CommonJS for jest. Our sources are ESM and may use import.meta.url,
// which CommonJS cannot parse, so it is rewritten to the equivalent file URL of the module first.
const { createTransformer } = require('@swc/jest');
const swc = createTransformer({
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
});
module.exports = {
  process(src, filename, options) {
    const rewritten = src.replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href");
    return swc.process(rewritten, filename, options);
  },
  getCacheKey(src, filename, options) {
    return `${swc.getCacheKey(src, filename, options)}:meta-url-v1`;
  },
};
