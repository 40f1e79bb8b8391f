/**
 * Policy as code: which requests go where, who approves, how many, for how long.
 * Format and matching rules: docs/policy.md. Pure: callers read the file and pass its text.
 */
export { type GlobMatcher, globMatches, globProblem } from './glob.js';
export { explainPolicy } from './policy-explain.js';
export {
  type ConditionResult,
  checkConditions,
  findRule,
  type MatchSubject,
  matchSubject,
  ruleMatches,
} from './policy-match.js';
export { parsePolicy } from './policy-parse.js';
export { applyRequesterBinding, type BindingResult, bindRequester } from './policy-requester.js';
export { attestationTtlSeconds, resolvePolicy } from './policy-resolve.js';
export { SLACK_CHANNEL_ID } from './policy-schema.js';
export {
  DEFAULT_ATTESTATION_TTL_SECONDS,
  DEFAULT_REMINDERS,
  type EffectivePolicy,
  MAX_ATTESTATION_TTL_SECONDS,
  MAX_TTL_SECONDS,
  type ParsePolicyResult,
  POLICY_OUTCOMES,
  type Policy,
  type PolicyApprovers,
  type PolicyDefaults,
  type PolicyMatch,
  type PolicyOutcome,
  type PolicyRule,
  type RequesterBinding,
} from './policy-types.js';
