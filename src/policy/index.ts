export { parsePolicy, formatPolicy, POLICY_LIMITS } from './expression.js';
export type { PolicyBranch } from './expression.js';
