/**
 * Federated updates that survive poisoned clients: screening of client
 * updates, robust aggregation rules, clipping and differential-privacy noise
 * with its RDP accountant, and the simulation that measures them against
 * backdoor and model-replacement attacks.
 */
export { type ClientUpdate, type RefusalReason, type UpdateLimits, UpdateRefusedError, checkUpdate, screenUpdates, DEFAULT_MAX_NORM } from './update.js';
export { fedAvg } from './fedavg.js';
export { coordinateMedian } from './median.js';
export { trimmedMean } from './trimmed-mean.js';
export { krum, multiKrum, krumScores, type KrumResult } from './krum.js';
export { bulyan, type BulyanResult } from './bulyan.js';
export { clipToNorm } from './clip.js';
export { boundToMedianNorm, medianOf, NORM_BOUNDS, type NormBound, type NormBoundResult } from './norm-bound.js';
export { centeredClip, DEFAULT_CENTERED_CLIP_ITERATIONS, type CenteredClipOptions, type CenteredClipResult } from './centered-clip.js';
export { bucketMeans, type Buckets } from './bucketing.js';
export { addGaussianNoise, standardNormal, cryptoUniform, type UniformSource } from './gaussian-noise.js';
export { rdpSampledGaussian, privacyBudget, DEFAULT_ORDERS, type PrivacyBudget } from './rdp-accountant.js';
export { aggregateUpdates, AGGREGATION_RULES, type AggregationRule, type AggregationOptions, type AggregationResult, type DpNoise } from './aggregate.js';
export { evaluateFederated, type FederatedData, type FederatedReport, type SimulationOptions, type RoundFigures } from './simulation.js';
export { federatedDataFromEmbeddings, type LabelledEmbedding } from './face-data.js';
export { syntheticEmbeddings } from './synthetic.js';
export { roundsSvg } from './round-plot.js';
export { ATTACKS, type AttackKind } from './attacks.js';
