import * as tf from '@tensorflow/tfjs';

/** The parts of a tfjs backend the shim uses (both the cpu and the wasm backend have them). */
interface DataBackend {
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  write(values: ArrayLike<number> | Uint8Array[] | null, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The wasm backend's output allocator. */
interface WasmBackend extends DataBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: ArrayLike<number>): tf.TensorInfo;
}

/**
 * cpu-only kernels the shim does not forward: complex numbers, strings, ragged tensors and canvas drawing
 * have no representation in the wasm heap (and the models never use them).
 */
const NOT_FORWARDED = new Set([
  'Complex',
  'ComplexAbs',
  'Real',
  'Imag',
  'FFT',
  'IFFT',
  'Draw',
  'StaticRegexReplace',
  'RaggedGather',
  'RaggedRange',
  'RaggedTensorToTensor',
]);

function forwardToCpu(kernel: tf.KernelConfig): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackend;
    const cpu = tf.findBackend('cpu') as unknown as DataBackend | null;
    if (!cpu) throw new Error(`CPU fallback for kernel ${kernel.kernelName}: the tfjs cpu backend is not available.`);
    const written: object[] = [];
    const produced: object[] = [];
    try {
      const cpuInputs: Record<string, tf.TensorInfo> = {};
      for (const [name, info] of Object.entries(inputs)) {
        if (info == null) continue;
        const dataId = cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype);
        written.push(dataId);
        cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
      }
      const out = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs });
      const toWasm = (o: tf.TensorInfo): tf.TensorInfo => {
        produced.push(o.dataId);
        if (o.dtype !== 'float32' && o.dtype !== 'int32' && o.dtype !== 'bool') {
          throw new Error(`CPU fallback for kernel ${kernel.kernelName}: output dtype ${o.dtype} cannot be stored by the wasm backend.`);
        }
        return wasm.makeOutput(o.shape, o.dtype, undefined, cpu.readSync(o.dataId) as ArrayLike<number>);
      };
      return Array.isArray(out) ? out.map(toWasm) : toWasm(out);
    } finally {
      for (const id of [...written, ...produced]) cpu.disposeData(id, true);
    }
  };
}

/** Kernel names served on wasm by the shim (filled by {@link registerCpuFallbackKernels}). */
const SHIMMED = new Set<string>();

/**
 * Registers, for every kernel the tfjs cpu backend implements and the wasm backend lacks, a wasm kernel that
 * copies the inputs to the cpu backend, runs the cpu kernel and copies the outputs back into the wasm heap.
 * This makes gradients work on wasm that otherwise fail with "kernel not registered": UnsortedSegmentSum
 * (the gradient of gather), Conv2DBackpropFilter (conv2d / conv2dTranspose weight gradients),
 * DepthwiseConv2dNativeBackpropFilter/Input, and forward Einsum. Complex, string, ragged and drawing kernels
 * are not forwarded. Idempotent. Returns every kernel name the shim serves (sorted).
 */
export function registerCpuFallbackKernels(): string[] {
  const onWasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (onWasm.has(kernel.kernelName) || NOT_FORWARDED.has(kernel.kernelName)) continue;
    tf.registerKernel({ kernelName: kernel.kernelName, backendName: 'wasm', kernelFunc: forwardToCpu(kernel) });
    SHIMMED.add(kernel.kernelName);
  }
  return [...SHIMMED].sort();
}
