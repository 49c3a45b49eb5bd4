/**
 * The face engine: image decoding with limits, face detection, landmarks,
 * pose, passive liveness, quality gates and embeddings, behind one
 * interface ({@link FaceEmbedder}) so the model can be swapped.
 */
export { selectFace } from './embedder.js';
export type { FaceEmbedder, FaceAnalysis, FaceLandmarks, HeadPose, EyeOpenness, AnalyzeOptions, Point } from './embedder.js';
export { HumanEmbedder } from './human.js';
export type { HumanEmbedderOptions } from './human.js';
export { OrtFaceEmbedder } from './ort/embedder.js';
export type { OrtFaceEmbedderOptions } from './ort/embedder.js';
export { sharedEmbedder, createFaceEngine, faceEngineFromEnv, FACE_ENGINES } from './shared-embedder.js';
export type { FaceEngine } from './shared-embedder.js';
export { FaceApiEmbedder } from './face-api.js';
export type { FaceApiEmbedderOptions } from './face-api.js';
export { decodeImage, readImageFile, checkDecodedImage, decodeNetpbm, resizeImage, mirrorImage, padImage, greyCrop, DEFAULT_IMAGE_LIMITS } from './image.js';
export type { DecodedImage, ImageLimits, PaddedImage, Box } from './image.js';
export { measurePixelQuality, innerFaceBox, qualityProblems, checkFaceQuality, DEFAULT_QUALITY_GATES, SHARPNESS_GRID } from './quality.js';
export type { FaceQuality, QualityGates } from './quality.js';
export { cosineSimilarity, l2Normalize, meanEmbedding, centreEmbedding } from './similarity.js';
export { ImageError, FaceNotFoundError, MultipleFacesError, FaceQualityError } from './errors.js';
export type { ImageErrorReason, FaceQualityReason } from './errors.js';
export { alignFace, fitSimilarity, alignTemplate, ARCFACE_TEMPLATE_112 } from './align.js';
export type { AlignSpec } from './align.js';
export { OnnxFaceRecognizer, faceResRecognizer, FACERES_ALIGN, MAX_RECOGNIZER_BYTES } from './recognizer.js';
export type { FaceRecognizer, OnnxRecognizerOptions } from './recognizer.js';
export { convertTfjsGraphToOnnx } from './tfjs-to-onnx.js';
