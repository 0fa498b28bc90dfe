import onnxProtoPackage from 'onnx-proto';

/**
 * The `onnx` protobuf namespace of onnx-proto (protobufjs static classes). onnx-proto is CommonJS, so it is
 * reached through its default export in ESM.
 */
export const onnx = onnxProtoPackage.onnx;

/** ONNX `TensorProto.DataType` codes used by this package. */
export const ONNX_DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
} as const;

/** ONNX `AttributeProto.AttributeType` codes used by this package. */
export const ONNX_ATTRIBUTE_TYPE = {
  float: 1,
  int: 2,
  string: 3,
  floats: 6,
  ints: 7,
} as const;
