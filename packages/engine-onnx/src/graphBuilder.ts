import { ConfigError, ShapeError, getOrThrow, shapeSize } from '@bigr/core';
import type { InputSpec } from '@bigr/core';
import type { onnx as proto } from 'onnx-proto';
import { onnx, ONNX_ATTRIBUTE_TYPE, ONNX_DATA_TYPE } from './onnxProto.js';
import type { OnnxDType, OnnxValue } from './onnxValue.js';

/** ONNX IR version written by {@link OnnxGraphBuilder} (8: accepted by the onnx 1.12 checker in Debian 12). */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset version written by {@link OnnxGraphBuilder}. */
export const ONNX_OPSET_VERSION = 17;

/** A node attribute value, tagged with its ONNX attribute type. */
export type OnnxAttribute =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] };

/** Element data of an initializer. */
export type InitializerData = Float32Array | Int32Array | BigInt64Array;

/** An initializer (constant tensor) recorded by the builder. */
export interface InitializerInfo {
  /** Element data (referenced, not copied, until serialisation; computed on access for deferred initializers). */
  readonly data: InitializerData;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: OnnxDType;
}

/** Where the bytes of an initializer stored as ONNX external data live (`TensorProto.external_data`). */
export interface ExternalTensorLocation {
  /** File name relative to the model file's directory (or the in-memory file name given to onnxruntime). */
  readonly location: string;
  /** Byte offset in that file. */
  readonly offset: number;
  /** Byte length (element count × element size). */
  readonly length: number;
}

/**
 * An initializer the builder will write, with its byte length. `bytes()` computes deferred data on each call;
 * `pieces()` yields the same bytes in order, for deferred initializers with a streaming producer in pieces
 * of bounded size that are only valid until the next piece is requested (buffers are reused).
 */
export interface UsedInitializer {
  /** Initializer name. */
  readonly name: string;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: OnnxDType;
  /** Byte length of the raw little-endian data. */
  readonly byteLength: number;
  /** The raw little-endian bytes (a view of the data, or freshly computed for a deferred initializer). */
  bytes(): Uint8Array;
  /** The raw bytes as consecutive pieces; each piece is valid only until the next one is requested. */
  pieces(): Iterable<Uint8Array>;
}

/** How a deferred initializer computes its data (see {@link OnnxGraphBuilder.addDeferredInitializer}). */
export interface DeferredData {
  /** The whole data. */
  readonly produce: () => InitializerData;
  /**
   * Optionally, the raw little-endian bytes as consecutive pieces, so writers need not hold the whole tensor;
   * a piece may be a reused buffer, valid only until the next piece is requested.
   */
  readonly pieces?: () => Iterable<Uint8Array>;
}

/** An initializer as stored: its data now, or a producer of it for later (exactly one of the two). */
type StoredInitializer = {
  readonly shape: readonly number[];
  readonly dtype: OnnxDType;
  readonly byteLength: number;
} & ({ readonly data: InitializerData; readonly deferred?: undefined } | { readonly data?: undefined; readonly deferred: DeferredData });

/** Options for {@link OnnxGraphBuilder.toModelProto}. */
export interface ModelProtoOptions {
  /** `producer_name`; default '@bigr/engine-onnx'. */
  readonly producerName?: string;
  /** `producer_version`; default this package's version. */
  readonly producerVersion?: string;
  /** `doc_string` of the graph. */
  readonly docString?: string;
}

const PACKAGE_VERSION = '0.1.0';

/** Largest total of inline initializer bytes {@link OnnxGraphBuilder.serialize} accepts (2 GiB protobuf limit minus 16 MiB for the graph). */
export const MAX_INLINE_INITIALIZER_BYTES = 2 ** 31 - 2 ** 24;

/** ONNX `TensorProto.DataLocation.EXTERNAL`. */
const DATA_LOCATION_EXTERNAL = 1;

const BYTES_PER_ELEMENT: Readonly<Record<OnnxDType, number>> = { float32: 4, int32: 4, int64: 8 };

function dtypeOfData(data: InitializerData): OnnxDType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  throw new ShapeError(`Unsupported initializer data ${Object.prototype.toString.call(data)}; expected Float32Array, Int32Array or BigInt64Array.`);
}

function rawBytes(data: InitializerData): Uint8Array {
  // ONNX raw_data is little-endian; every platform onnxruntime-node ships for is little-endian.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const utf8 = new TextEncoder();

function attributeProto(name: string, value: OnnxAttribute): proto.IAttributeProto {
  if ('int' in value) {
    if (!Number.isInteger(value.int)) throw new ConfigError(`Attribute ${name} = ${value.int} must be an integer.`);
    return { name, type: ONNX_ATTRIBUTE_TYPE.int, i: value.int };
  }
  if ('float' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.float, f: value.float };
  if ('string' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.string, s: utf8.encode(value.string) };
  if ('ints' in value) {
    for (const v of value.ints) {
      if (!Number.isInteger(v)) throw new ConfigError(`Attribute ${name} = [${value.ints.join(', ')}] must hold integers only.`);
    }
    return { name, type: ONNX_ATTRIBUTE_TYPE.ints, ints: [...value.ints] };
  }
  return { name, type: ONNX_ATTRIBUTE_TYPE.floats, floats: [...value.floats] };
}

function valueInfo(name: string, dtype: OnnxDType, dims: readonly (number | string | null)[] | null): proto.IValueInfoProto {
  const tensorType: proto.TypeProto.ITensor = { elemType: ONNX_DATA_TYPE[dtype] };
  if (dims !== null) {
    tensorType.shape = {
      dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { name, type: { tensorType } };
}

/**
 * Accumulates an ONNX graph: inputs, initializers, nodes and outputs, and serialises it as a `ModelProto`
 * (IR {@link ONNX_IR_VERSION}, opset {@link ONNX_OPSET_VERSION}). Names are unique within the graph;
 * initializers are written only if some node or output uses them.
 */
export class OnnxGraphBuilder {
  /** Graph name. */
  readonly graphName: string;
  readonly #names = new Set<string>();
  readonly #values = new Map<string, OnnxValue>();
  readonly #inputs: { spec: InputSpec; value: OnnxValue }[] = [];
  readonly #initializers = new Map<string, StoredInitializer>();
  readonly #usedInitializers = new Set<string>();
  readonly #nodes: proto.INodeProto[] = [];
  readonly #outputs: { name: string; value: OnnxValue }[] = [];
  readonly #int64Cache = new Map<string, OnnxValue>();
  #counter = 0;

  /** Starts an empty graph called `graphName`. */
  constructor(graphName: string) {
    this.graphName = graphName;
  }

  /** Number of nodes emitted so far. */
  get nodeCount(): number {
    return this.#nodes.length;
  }

  /** Op types of the emitted nodes, in order (for inspection and tests). */
  get nodeOpTypes(): string[] {
    return this.#nodes.map((n) => n.opType ?? '');
  }

  /**
   * A fresh name `hint:N` that no value uses yet (not reserved until a value takes it). Generated names
   * contain ':', which state-dict parameter names never do.
   */
  uniqueName(hint: string): string {
    let name = `${hint}:${this.#counter++}`;
    while (this.#names.has(name)) name = `${hint}:${this.#counter++}`;
    return name;
  }

  #claim(name: string, what: string): void {
    if (name.length === 0) throw new ConfigError(`Graph "${this.graphName}": ${what} name is empty; give it a non-empty name.`);
    if (this.#names.has(name)) {
      throw new ConfigError(`Graph "${this.graphName}": ${what} name "${name}" is already used by another input, parameter or output. Rename one of them.`);
    }
    this.#names.add(name);
  }

  /** Whether `value` was created by this builder. */
  owns(value: OnnxValue): boolean {
    return this.#values.get(value.name) === value;
  }

  /** Declares a graph input; numeric dims become `dim_value`, string dims become `dim_param`. */
  addInput(spec: InputSpec): OnnxValue {
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') {
      throw new ConfigError(`Input "${spec.name}" has dtype ${String(spec.dtype)}; graph inputs must be float32 or int32.`);
    }
    for (const d of spec.shape) {
      if (typeof d === 'number' ? !Number.isInteger(d) || d < 0 : d.length === 0) {
        throw new ConfigError(
          `Input "${spec.name}" has invalid dimension ${JSON.stringify(d)} in [${spec.shape.join(', ')}]; ` +
            `use a non-negative integer or a non-empty name for a dynamic dimension.`,
        );
      }
    }
    this.#claim(spec.name, 'input');
    const value: OnnxValue = { name: spec.name, dtype: spec.dtype, rank: spec.shape.length };
    this.#values.set(value.name, value);
    this.#inputs.push({ spec, value });
    return value;
  }

  /**
   * Records an initializer (constant tensor). The data is referenced, not copied, until serialisation.
   * It is written to the model only if a node or graph output uses it.
   */
  addInitializer(name: string, data: InitializerData, shape: readonly number[]): OnnxValue {
    const dtype = dtypeOfData(data);
    const size = shapeSize(shape);
    if (size !== data.length) {
      throw new ShapeError(
        `Initializer "${name}" has ${data.length} elements but shape [${shape.join(', ')}] needs ${size}. Pass data whose length is the product of the shape.`,
      );
    }
    return this.#store(name, { data, shape: Object.freeze([...shape]), dtype, byteLength: data.byteLength });
  }

  /**
   * Records an initializer whose data is computed (by `data.produce`, or piecewise by `data.pieces`) only when
   * it is written or inspected through {@link initializer}, and computed again on every such use. Derived
   * tensors (e.g. transposed weights) recorded this way are not held in memory when the model is streamed to
   * external data. `produce` must return `dtype` data with the product of `shape` elements, and `pieces` the
   * same bytes.
   */
  addDeferredInitializer(name: string, dtype: OnnxDType, shape: readonly number[], data: DeferredData | (() => InitializerData)): OnnxValue {
    const size = shapeSize(shape);
    const deferred = typeof data === 'function' ? { produce: data } : data;
    return this.#store(name, { deferred, shape: Object.freeze([...shape]), dtype, byteLength: size * BYTES_PER_ELEMENT[dtype] });
  }

  #store(name: string, init: StoredInitializer): OnnxValue {
    this.#claim(name, 'initializer');
    this.#initializers.set(name, init);
    const value: OnnxValue = { name, dtype: init.dtype, rank: init.shape.length };
    this.#values.set(name, value);
    return value;
  }

  #materialize(name: string, init: StoredInitializer): InitializerData {
    if (init.data) return init.data;
    const data = init.deferred.produce();
    const expected = init.byteLength / BYTES_PER_ELEMENT[init.dtype];
    if (dtypeOfData(data) !== init.dtype || data.length !== expected) {
      throw new ShapeError(
        `Deferred initializer "${name}" produced ${dtypeOfData(data)} data of ${data.length} elements; ` +
          `${init.dtype} [${init.shape.join(', ')}] (${expected} elements) was declared.`,
      );
    }
    return data;
  }

  /** The initializer behind `value` (deferred data is computed), or undefined when it is an input or node output. */
  initializer(value: OnnxValue): InitializerInfo | undefined {
    if (!this.owns(value)) return undefined;
    const init = this.#initializers.get(value.name);
    if (!init) return undefined;
    return { data: this.#materialize(value.name, init), shape: init.shape, dtype: init.dtype };
  }

  /** The initializers that will be written (used by a node or output), in creation order. */
  usedInitializers(): UsedInitializer[] {
    const out: UsedInitializer[] = [];
    for (const [name, init] of this.#initializers) {
      if (!this.#usedInitializers.has(name)) continue;
      const bytes = (): Uint8Array => rawBytes(this.#materialize(name, init));
      const pieces = init.deferred?.pieces ?? ((): Uint8Array[] => [bytes()]);
      out.push({ name, shape: init.shape, dtype: init.dtype, byteLength: init.byteLength, bytes, pieces });
    }
    return out;
  }

  /** Total bytes of the initializers that will be written. */
  get usedInitializerBytes(): number {
    let total = 0;
    for (const name of this.#usedInitializers) total += getOrThrow(this.#initializers, name, 'used initializer').byteLength;
    return total;
  }

  /** An int64 constant (shapes, axes, slice bounds), shared between nodes that need the same values. */
  int64Constant(values: readonly number[], shape: readonly number[] = [values.length]): OnnxValue {
    const key = `${shape.join('x')}:${values.join(',')}`;
    let value = this.#int64Cache.get(key);
    if (!value) {
      for (const v of values) {
        if (!Number.isSafeInteger(v)) throw new ConfigError(`int64 constant value ${v} is not a safe integer.`);
      }
      value = this.addInitializer(
        this.uniqueName('i64'),
        BigInt64Array.from(values, (v) => BigInt(v)),
        shape,
      );
      this.#int64Cache.set(key, value);
    }
    return value;
  }

  #use(value: OnnxValue, what: string): void {
    if (!this.owns(value)) {
      throw new ConfigError(
        `Graph "${this.graphName}": ${what} "${value?.name}" was not created by this graph builder. Values cannot be shared between graphs.`,
      );
    }
    if (this.#initializers.has(value.name)) this.#usedInitializers.add(value.name);
  }

  /**
   * Emits one node with a single output. `null` inputs are omitted optional inputs (empty names).
   * Returns the output value with the given dtype and rank.
   */
  addNode(
    opType: string,
    inputs: readonly (OnnxValue | null)[],
    output: { readonly dtype: OnnxDType; readonly rank?: number | undefined },
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
  ): OnnxValue {
    for (const v of inputs) if (v !== null) this.#use(v, `input of ${opType}`);
    const outName = this.uniqueName(opType.toLowerCase());
    this.#names.add(outName);
    const node: proto.INodeProto = {
      name: `${opType}_${this.#nodes.length}`,
      opType,
      domain: '',
      input: inputs.map((v) => (v === null ? '' : v.name)),
      output: [outName],
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    };
    this.#nodes.push(node);
    const value: OnnxValue = output.rank === undefined ? { name: outName, dtype: output.dtype } : { name: outName, dtype: output.dtype, rank: output.rank };
    this.#values.set(outName, value);
    return value;
  }

  /** Declares a graph output called `name` holding `value` (through an Identity node, which onnxruntime removes). */
  addOutput(name: string, value: OnnxValue): void {
    this.#use(value, `output "${name}"`);
    this.#claim(name, 'output');
    this.#nodes.push({ name: `Identity_${this.#nodes.length}`, opType: 'Identity', domain: '', input: [value.name], output: [name] });
    this.#outputs.push({ name, value });
  }

  /**
   * The model as a protobuf object. Initializers named in `external` are written as external data
   * (`data_location` EXTERNAL with `location`/`offset`/`length` entries, no bytes); the others inline as `raw_data`.
   */
  toModelProto(options: ModelProtoOptions = {}, external: ReadonlyMap<string, ExternalTensorLocation> = new Map()): proto.ModelProto {
    if (this.#outputs.length === 0) throw new ConfigError(`Graph "${this.graphName}" has no outputs; declare at least one.`);
    const initializer: proto.ITensorProto[] = [];
    for (const [name, init] of this.#initializers) {
      if (!this.#usedInitializers.has(name)) continue;
      const tensor: proto.ITensorProto = { name, dims: [...init.shape], dataType: ONNX_DATA_TYPE[init.dtype] };
      const ext = external.get(name);
      if (ext) {
        if (ext.length !== init.byteLength || !Number.isSafeInteger(ext.offset) || ext.offset < 0 || ext.location.length === 0) {
          throw new ConfigError(
            `External data for initializer "${name}" is ${JSON.stringify(ext)}; it needs a non-empty location, an offset >= 0 and length ${init.byteLength}.`,
          );
        }
        tensor.dataLocation = DATA_LOCATION_EXTERNAL;
        tensor.externalData = [
          { key: 'location', value: ext.location },
          { key: 'offset', value: String(ext.offset) },
          { key: 'length', value: String(ext.length) },
        ];
      } else {
        tensor.rawData = rawBytes(this.#materialize(name, init));
      }
      initializer.push(tensor);
    }
    for (const name of external.keys()) {
      if (!this.#usedInitializers.has(name)) {
        throw new ConfigError(`External data is given for "${name}", which is not an initializer this graph writes. Place only used initializers.`);
      }
    }
    const graph: proto.IGraphProto = {
      name: this.graphName,
      node: this.#nodes,
      initializer,
      input: this.#inputs.map(({ spec, value }) => valueInfo(spec.name, value.dtype, spec.shape)),
      output: this.#outputs.map(({ name, value }) => valueInfo(name, value.dtype, value.rank === undefined ? null : new Array<null>(value.rank).fill(null))),
    };
    if (options.docString !== undefined) graph.docString = options.docString;
    return onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET_VERSION }],
      producerName: options.producerName ?? '@bigr/engine-onnx',
      producerVersion: options.producerVersion ?? PACKAGE_VERSION,
      graph,
    });
  }

  /**
   * The serialised `ModelProto` (initializers in `external` written as external data references, see
   * {@link toModelProto}). Protobuf limits a model to 2 GiB, so the inline initializers must total less than
   * {@link MAX_INLINE_INITIALIZER_BYTES}.
   */
  serialize(options: ModelProtoOptions = {}, external: ReadonlyMap<string, ExternalTensorLocation> = new Map()): Uint8Array {
    let inline = 0;
    for (const name of this.#usedInitializers) if (!external.has(name)) inline += getOrThrow(this.#initializers, name, 'used initializer').byteLength;
    if (inline >= MAX_INLINE_INITIALIZER_BYTES) {
      throw new ConfigError(
        `Graph "${this.graphName}" holds ${(inline / 2 ** 30).toFixed(2)} GiB of inline initializers; a serialised ONNX model must stay under 2 GiB. ` +
          `Store the weights as external data: exportOnnxModel(..., { externalData: true }) or an OnnxEngine with externalData 'auto' (the default).`,
      );
    }
    return onnx.ModelProto.encode(this.toModelProto(options, external)).finish();
  }
}
