// onnxruntime-node creates typed arrays in the host realm; jest's vm realm has its own constructors, so
// `instanceof Float32Array` checks inside the binding fail ("data must be type of function Float32Array").
// Share the host's typed-array constructors with the test realm (cf. onnxruntime issue #16622).
const { TestEnvironment } = require('jest-environment-node');
const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];
class SharedTypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}
module.exports = SharedTypedArrayEnvironment;
