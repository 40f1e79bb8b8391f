/** What the renderers need to know about a request. Times are Unix milliseconds. */

import type { KnownBlock } from '@slack/types';
import type { CallerFacts } from '../src/core/caller.js';
import type { Decision, Risk, Status } from '../src/core/types.js';

/** 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' */
export type CardStatus = Status;
/** 'low' | 'medium' | 'high' | 'critical' */
export type CardRisk = Risk;

export interface CardVote {
  userId: string;
  decision: Decision;
  reason: string | null;
  at: number;
}

export interface CardView {
  id: string;
  status: CardStatus;
  title: string;
  risk: CardRisk;
  action: string;
  resource: string | null;
  environment: string | null;
  client: string;
  requester: {
    slackUserId: string | null;
    name: string | null;
    email: string | null;
    /** False when Slack knows no such user (shown as unverified); true or null (not checked yet) show nothing. */
    verified?: boolean | null;
  };
  summary: string | null;
  context: Record<string, string | number | boolean> | null;
  links: { text: string; url: string }[] | null;
  diff: string | null;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  /** A Slack user ID, 'policy', 'system' (expiry) or 'client:<name>' (cancelled by the pipeline). */
  decidedBy: string | null;
  /** Deny reason, cancel reason, or null. */
  reason: string | null;
  minApprovals: number;
  votes: CardVote[];
  /** Who may approve: Slack user IDs and user group IDs; both empty = any eligible human except the requester. */
  approverUsers: string[];
  approverGroups: string[];
  /** Name of the policy rule that applied, if any. */
  policyRule: string | null;
  /** How many secret values were masked before storage. */
  redactions: number;
  /** What a CI identity token proved about the caller (repository, ref, ...); absent or null otherwise. */
  caller?: CardCaller | null;
}

/** The facts of an OIDC caller a card shows, each null when the token did not carry it. */
export type CardCaller = CallerFacts;

/** A message posted into the card's thread. */
export interface ThreadMessage {
  text: string;
  blocks?: KnownBlock[];
}
