/**
 * The fleet verification service: devices register their Ed25519 request
 * key and CKKS evaluation keys, enrol encrypted face templates, and get
 * encrypted match scores back; operators publish signed model manifests;
 * devices report their audit heads. State in SQLite or PostgreSQL behind one
 * interface. See docs/FLEET.md.
 */
export { startFleetService, DEFAULT_FLEET_PORT, DEFAULT_FLEET_SERVER_LIMITS } from './service.js';
export type { FleetService, FleetServiceOptions } from './service.js';
export { FleetClient } from './client.js';
export type { FleetClientOptions, FleetResponse } from './client.js';
export { signRequest, REQUEST_WINDOW_MS, DEVICE_ID_PATTERN } from './request-signing.js';
export { LIMITS } from './routes.js';
export { loadOperatorToken, OPERATOR_TOKEN_FILE } from './operator-token.js';
export { EncryptedMatching } from './encrypted-matching.js';
export * from './store/index.js';
export { FleetRateLimits, DEFAULT_FLEET_RATE_LIMITS, parseRate, parseBurst, peerKey } from './rate-limits.js';
export type { FleetRateLimitOptions, PeerAdmission, TokenBucketPolicy } from './rate-limits.js';
export { loadTlsCredentials, isLoopbackAddress, FLEET_TLS_CERT_ENV, FLEET_TLS_KEY_ENV, TLS_MIN_VERSION } from './tls.js';
export type { FleetTlsFiles, TlsCredentials } from './tls.js';
