/** Element types a symbolic ONNX value can have in graphs built by this package. */
export type OnnxDType = 'float32' | 'int32' | 'int64';

/**
 * A symbolic value in an ONNX graph under construction: the name of a graph input, initializer or node
 * output, its element type and, when known, its rank. This is the `T` of {@link OnnxOps}.
 */
export interface OnnxValue {
  /** Value name in the ONNX graph. */
  readonly name: string;
  /** Element type. */
  readonly dtype: OnnxDType;
  /** Number of dimensions, when known at build time (inputs, initializers and most op outputs). */
  readonly rank?: number;
}
