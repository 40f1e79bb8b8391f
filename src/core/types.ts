/** Domain types shared by every layer. No I/O here. */
import type { Caller } from './caller.js';

export const STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
export type FinalStatus = Exclude<Status, 'pending'>;

export const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

export interface Requester {
  email?: string;
  slack_user_id?: string;
  name?: string;
}

export interface Link {
  text: string;
  url: string;
}

export type ContextValue = string | number | boolean;

/**
 * One constraint on who may vote. A voter must satisfy every set on the request.
 * A set with no users and no groups allows any eligible human.
 */
export interface ApproverSet {
  source: 'policy' | 'request';
  users: string[];
  groups: string[];
}

export type Decision = 'approve' | 'deny';

export type RequesterCheck = 'required' | 'verified' | 'unverified';

/** What a lookup of the requester in Slack learned (only the fields it learned). */
export interface RequesterLookup {
  requesterSlackId?: string;
  requesterEmail?: string;
  requesterCheck?: 'verified' | 'unverified';
}

/** A request as the domain sees it (times in Unix ms). */
export interface ApprovalRequest {
  id: string;
  client: string;
  status: Status;
  action: string;
  title: string;
  summary: string | null;
  resource: string | null;
  environment: string | null;
  risk: Risk;
  requester: Requester;
  requesterSlackId: string | null;
  requesterEmail: string | null;
  /**
   * Whether the card's lookup found the requester in Slack: null (not checked yet), `required`
   * (not checked yet; the policy refuses an unverified requester), `verified` or `unverified`.
   */
  requesterCheck: RequesterCheck | null;
  context: Record<string, ContextValue> | null;
  links: Link[] | null;
  diff: string | null;
  approvers: ApproverSet[];
  minApprovals: number;
  ttlSeconds: number;
  callbackUrl: string | null;
  channel: string;
  policyRule: string | null;
  policyHash: string | null;
  denyReasonRequired: boolean;
  reminderPoints: number[];
  remindersSent: number;
  redactions: number;
  payloadSha256: string;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  reason: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  slackUrl: string | null;
  cardPostedAt: number | null;
  /** Why Slack cannot show the card right now (a person must fix it), or null. */
  deliveryError: DeliveryError | null;
  /** The caller proven by a CI identity token, or null for a shared-secret caller. */
  caller: Caller | null;
  /** The signed approval (compact JWS), or null when the request is not approved. */
  attestation: string | null;
  consumedAt: number | null;
}

export interface DeliveryError {
  code: string;
  message: string;
}

export interface Vote {
  userId: string;
  teamId: string | null;
  enterpriseId: string | null;
  userName: string | null;
  decision: Decision;
  reason: string | null;
  at: number;
}

/**
 * The Slack workspace Countersign is installed in, pinned from `auth.test` at start: only its
 * members vote (on Enterprise Grid, members of any workspace of the same organisation).
 */
export interface Workspace {
  /** Null for an organisation-wide (Enterprise Grid) install. */
  teamId: string | null;
  enterpriseId: string | null;
}

/** The person who clicked, as resolved from Slack at the moment of the click. */
export interface Clicker {
  userId: string;
  teamId: string | null;
  enterpriseId: string | null;
  name: string | null;
  email: string | null;
  isBot: boolean;
  isAppUser: boolean;
  /** Multi-channel guest. */
  isRestricted: boolean;
  /** Single-channel guest. */
  isUltraRestricted: boolean;
  deleted: boolean;
  /** The user groups, among those named by the request's approver sets, that the clicker belongs to. */
  groups: string[];
}
