/**
 * The ONNX part of bioseal: a minimal ONNX model writer (demo and large test
 * models, no Python needed) and in-memory inference with onnxruntime-node,
 * with a strictly validated JSON form for input and output tensors.
 */

export {
  DEMO_BIAS,
  DEMO_WEIGHTS,
  ONNX_IR_VERSION,
  ONNX_OPSET_VERSION,
  OnnxDataType,
  buildDemoModel,
  buildLargeModel,
  encodeModel,
  largeModelSide,
  largeModelWeights,
} from './model-builder.js';
export type {
  LargeModelOptions,
  LazyBytes,
  OnnxElemType,
  OnnxGraph,
  OnnxInitializer,
  OnnxNode,
  OnnxValueInfo,
} from './model-builder.js';

export {
  JSON_TENSOR_TYPES,
  MAX_TENSOR_ELEMENTS,
  MAX_TENSOR_RANK,
  createSessionFromMemory,
  runModel,
  tensorsFromJson,
  tensorsToJson,
} from './session.js';
export type { JsonTensor, JsonTensorType, JsonTensors, SessionInputs } from './session.js';
