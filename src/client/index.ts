/**
 * The Countersign client for Node programs and agents: `import { Countersign } from 'countersign'`.
 */
export {
  Countersign,
  type CountersignOptions,
  type RequestApprovalOptions,
  type WaitOptions,
} from './countersign.js';
export { type ClientErrorCode, CountersignError } from './errors.js';
export { cachedTokenProvider, githubActionsTokenProvider, type TokenProvider } from './oidc-token.js';
export { payloadSha256, verifyCallback } from './signing.js';
export type {
  ApprovalRequestInput,
  CallbackEvent,
  Caller,
  DecidedRequest,
  FinalStatus,
  Requester,
  RequestObject,
  RequestStatus,
  Risk,
  ValidationIssue,
  VoteObject,
} from './types.js';
export {
  type AttestationCheck,
  type AttestationClaims,
  type AttestationFailure,
  type AttestationResult,
  fetchJwks,
  type VerifyApprovalOptions,
  verifyApproval,
} from './verify-approval.js';
