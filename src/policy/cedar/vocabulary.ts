/**
 * The words bioseal's Cedar policies speak: the actions the daemon asks
 * about, the factor names that may appear in the context, the model
 * sensitivities, and where the shipped schema and default policy live.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every action the daemon authorises. */
export const POLICY_ACTIONS = ['model:load', 'model:infer', 'model:export', 'session:unlock', 'enrolment:change'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** Factors whose age the context carries (the schema's FactorAge record). */
export const POLICY_FACTORS = ['face', 'keystroke', 'passkey', 'fido2', 'recovery', 'keyfile', 'tpm', 'pkcs11'] as const;
export type PolicyFactor = (typeof POLICY_FACTORS)[number];

/** Model sensitivity levels, lowest first. */
export const MODEL_SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;
export type ModelSensitivity = (typeof MODEL_SENSITIVITIES)[number];

/** The resource entity type each action applies to (as in the schema). */
export const ACTION_RESOURCE: Readonly<Record<PolicyAction, 'Model' | 'Session' | 'Enrolment'>> = {
  'model:load': 'Model',
  'model:infer': 'Model',
  'model:export': 'Model',
  'session:unlock': 'Session',
  'enrolment:change': 'Enrolment',
};

/** The package's `policies/` folder (beside `dist/`). */
export const POLICIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'policies');
/** The schema every policy is validated against. */
export const SCHEMA_FILE = path.join(POLICIES_DIR, 'bioseal.cedarschema');
/** The policy used when the user names none. */
export const DEFAULT_POLICY_FILE = path.join(POLICIES_DIR, 'default.cedar');
