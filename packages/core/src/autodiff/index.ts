export { TapeOps, type Traced, type TracedDType, type ParameterSignature, type TapeOpsOptions } from './tapeOps.js';
export { vjp, unbroadcast, type Shaped } from './vjp.js';
export { lossGradients, type LossGradients, type LossGradientOptions } from './lossGradients.js';
export { broadcastShapes, matMulShape, conv2dShape, reshapeTarget } from './shapeInference.js';
