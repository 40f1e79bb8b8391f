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
export { payloadSha256, verifyCallback } from './signing.js';
export type {
  ApprovalRequestInput,
  CallbackEvent,
  DecidedRequest,
  FinalStatus,
  Requester,
  RequestObject,
  RequestStatus,
  Risk,
  ValidationIssue,
  VoteObject,
} from './types.js';
