import { toRequestObject } from '../core/request-object.js';
import type { ApprovalRequest, Vote } from '../core/types.js';
import { callbackLane } from '../outbox/callback-gate.js';
import type { NewOutboxItem } from '../store/store.js';

/** The kinds of outbox rows and what each payload holds. */
export type OutboxPayload =
  | { kind: 'slack.post_card' }
  | { kind: 'slack.update_card' }
  | { kind: 'slack.diff_file' }
  | {
      kind: 'slack.thread_vote';
      userId: string;
      decision: Vote['decision'];
      reason: string | null;
      at: number;
    }
  | { kind: 'slack.thread_outcome' }
  | { kind: 'slack.thread_reminder'; point: number }
  | {
      kind: 'slack.checkpoint';
      channel: string;
      seq: number;
      hash: string;
      at: number;
      keyId: string;
      signature: string;
    }
  | { kind: 'callback'; url: string; webhookId: string; body: string };

function slack(r: ApprovalRequest, payload: OutboxPayload): NewOutboxItem {
  return { kind: payload.kind, requestId: r.id, lane: `slack:${r.channel}`, payload };
}

export const items = {
  postCard: (r: ApprovalRequest): NewOutboxItem[] => {
    const list = [slack(r, { kind: 'slack.post_card' })];
    if (r.diff) list.push(slack(r, { kind: 'slack.diff_file' }));
    return list;
  },
  updateCard: (r: ApprovalRequest) => slack(r, { kind: 'slack.update_card' }),
  voteReply: (r: ApprovalRequest, v: Vote) =>
    slack(r, {
      kind: 'slack.thread_vote',
      userId: v.userId,
      decision: v.decision,
      reason: v.reason,
      at: v.at,
    }),
  outcomeReply: (r: ApprovalRequest) => slack(r, { kind: 'slack.thread_outcome' }),
  reminder: (r: ApprovalRequest, point: number) => slack(r, { kind: 'slack.thread_reminder', point }),
  /** A signed audit checkpoint for the audit channel (no request: its own lane per channel). */
  checkpoint: (
    channel: string,
    cp: { seq: number; hash: string; at: number; keyId: string; signature: string },
  ): NewOutboxItem => ({
    kind: 'slack.checkpoint',
    requestId: null,
    lane: `slack:${channel}`,
    payload: {
      kind: 'slack.checkpoint',
      channel,
      seq: cp.seq,
      hash: cp.hash,
      at: cp.at,
      keyId: cp.keyId,
      signature: cp.signature,
    } satisfies OutboxPayload,
  }),
  /** The pipeline's callback; the body is fixed now so every retry sends the same bytes and id. */
  callback: (r: ApprovalRequest, votes: Vote[]): NewOutboxItem[] => {
    if (r.callbackUrl === null || r.status === 'pending') return [];
    const body = JSON.stringify({ type: `request.${r.status}`, data: toRequestObject(r, votes) });
    return [
      {
        kind: 'callback',
        requestId: r.id,
        // One lane per client and receiver: a receiver's backlog never hides the rows of another.
        lane: callbackLane(r.client, r.callbackUrl),
        payload: { kind: 'callback', url: r.callbackUrl, webhookId: `msg_${r.id}_${r.status}`, body },
      },
    ];
  },
};
