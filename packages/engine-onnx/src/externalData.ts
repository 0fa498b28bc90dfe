import { ConfigError } from '@bigr/core';
import type { ExternalTensorLocation, OnnxGraphBuilder, UsedInitializer } from './graphBuilder.js';

/** Default {@link ExternalDataOptions.externalDataThreshold}: 1 GiB of initializers. */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 2 ** 30;
/** Default {@link ExternalDataOptions.externalDataMinBytes}: tensors under 1 KiB stay inline (as onnx's `size_threshold`). */
export const DEFAULT_EXTERNAL_DATA_MIN_BYTES = 1024;
/**
 * Offset alignment of external tensors in a data file. onnxruntime memory-maps an external initializer when its
 * offset is a multiple of the allocation granularity (4 KiB on Linux and macOS, 64 KiB on Windows); tensors of
 * at least {@link LARGE_TENSOR_BYTES} are aligned to 64 KiB, smaller ones to 4 KiB.
 */
export const EXTERNAL_DATA_ALIGNMENT = 4096;
/** Alignment of external tensors of at least {@link LARGE_TENSOR_BYTES} (Windows' allocation granularity). */
export const LARGE_TENSOR_ALIGNMENT = 65536;
/** Size from which an external tensor is aligned to {@link LARGE_TENSOR_ALIGNMENT} (1 MiB, as onnxruntime's own writer). */
export const LARGE_TENSOR_BYTES = 2 ** 20;
/** Largest piece handed to one file write (Node's fs writes at most 2 GiB − 1 bytes per call). */
const MAX_WRITE_BYTES = 2 ** 30;

/** Whether and how initializers are stored as ONNX external data instead of inside the `ModelProto`. */
export interface ExternalDataOptions {
  /**
   * `true`: always store large initializers as external data; `false`: always inline (fails when they reach
   * 2 GiB, protobuf's limit); `'auto'` (default): external when the initializers written total more than
   * `externalDataThreshold` bytes.
   */
  readonly externalData?: boolean | 'auto';
  /** Byte total above which `'auto'` switches to external data; default {@link DEFAULT_EXTERNAL_DATA_THRESHOLD} (1 GiB). */
  readonly externalDataThreshold?: number;
  /** In external mode, initializers smaller than this many bytes (and all int64 shape constants) stay inline; default 1024. */
  readonly externalDataMinBytes?: number;
}

/** One tensor's bytes at an offset of a data file; `pieces()` may compute them (deferred initializers). */
export interface ExternalDataChunk {
  /** Initializer name. */
  readonly name: string;
  /** Byte offset in the data file. */
  readonly offset: number;
  /** Byte length. */
  readonly length: number;
  /** The bytes to write at `offset`, as consecutive pieces (each valid only until the next is requested). */
  pieces(): Iterable<Uint8Array>;
}

/** The placement of a graph's external initializers in one data file. */
export interface ExternalDataLayout {
  /** `TensorProto.external_data` of each external initializer, by name. */
  readonly locations: ReadonlyMap<string, ExternalTensorLocation>;
  /** The tensors in file order. */
  readonly chunks: readonly ExternalDataChunk[];
  /** Size of the data file in bytes (end of the last tensor). */
  readonly byteLength: number;
}

function nonNegative(value: number, what: string, fix: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${what} = ${String(value)} is invalid; ${fix}`);
  }
  return value;
}

/** The minimum byte size of an external tensor from `options` (validated). */
export function externalDataMinBytes(options: ExternalDataOptions): number {
  return nonNegative(options.externalDataMinBytes ?? DEFAULT_EXTERNAL_DATA_MIN_BYTES, 'externalDataMinBytes', 'use a byte count >= 0 (default 1024).');
}

/**
 * Whether a graph whose written initializers total `totalBytes` is stored with external data under `options`
 * (validated: `externalData` must be a boolean or 'auto', the threshold a byte count >= 0).
 */
export function useExternalData(totalBytes: number, options: ExternalDataOptions): boolean {
  const mode = options.externalData ?? 'auto';
  if (mode !== true && mode !== false && mode !== 'auto') {
    throw new ConfigError(`externalData = ${JSON.stringify(mode)} is invalid; use true, false or 'auto' (default).`);
  }
  const threshold = nonNegative(
    options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD,
    'externalDataThreshold',
    'use a byte count >= 0 (default 1 GiB = 1073741824).',
  );
  externalDataMinBytes(options);
  return mode === 'auto' ? totalBytes > threshold : mode;
}

/**
 * The written initializers of `builder` that go to external data: non-empty ones of at least `minBytes` bytes,
 * except int64 tensors. Those are shapes, axes and slice bounds, which onnxruntime's shape inference reads
 * from the model itself ("Cannot parse data from external tensors"), so they always stay inline.
 */
export function externalInitializers(builder: OnnxGraphBuilder, minBytes: number): UsedInitializer[] {
  return builder.usedInitializers().filter((init) => init.dtype !== 'int64' && init.byteLength > 0 && init.byteLength >= minBytes);
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

/**
 * Lays `initializers` out back to back in one data file called `location` (relative to the model file), each
 * offset aligned to 4 KiB (64 KiB from 1 MiB up) so onnxruntime can memory-map them; gaps are zero bytes.
 */
export function layoutExternalData(initializers: readonly UsedInitializer[], location: string): ExternalDataLayout {
  const locations = new Map<string, ExternalTensorLocation>();
  const chunks: ExternalDataChunk[] = [];
  let end = 0;
  for (const init of initializers) {
    const offset = alignUp(end, init.byteLength >= LARGE_TENSOR_BYTES ? LARGE_TENSOR_ALIGNMENT : EXTERNAL_DATA_ALIGNMENT);
    locations.set(init.name, { location, offset, length: init.byteLength });
    chunks.push({ name: init.name, offset, length: init.byteLength, pieces: () => init.pieces() });
    end = offset + init.byteLength;
  }
  return { locations, chunks, byteLength: end };
}

/**
 * The data file of `layout` as a sequence of byte pieces (zero padding, then each tensor in slices of at most
 * 1 GiB). Parameter bytes are views; deferred initializers (transposed weights) are computed piece by piece
 * into reused buffers, so a piece is valid only until the next one is requested: write each before pulling
 * the next (as `atomicWrite` does).
 */
export function* externalDataPieces(layout: ExternalDataLayout): Generator<Uint8Array> {
  const zeros = new Uint8Array(LARGE_TENSOR_ALIGNMENT);
  let position = 0;
  for (const chunk of layout.chunks) {
    if (chunk.offset > position) {
      yield zeros.subarray(0, chunk.offset - position);
      position = chunk.offset;
    }
    let written = 0;
    for (const bytes of chunk.pieces()) {
      written += bytes.byteLength;
      if (written > chunk.length) break;
      for (let start = 0; start < bytes.byteLength; start += MAX_WRITE_BYTES) {
        yield bytes.subarray(start, Math.min(bytes.byteLength, start + MAX_WRITE_BYTES));
      }
    }
    if (written !== chunk.length) {
      throw new ConfigError(
        `Initializer "${chunk.name}" produced ${written > chunk.length ? 'more' : `only ${written}`} bytes where ${chunk.length} were laid out; ` +
          `its data producer is inconsistent with its shape.`,
      );
    }
    position += chunk.length;
  }
}
