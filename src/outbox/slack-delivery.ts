import type { WebClient } from '@slack/web-api';
import {
  fullDiffFile,
  renderCard,
  renderOutcomeReply,
  renderReminder,
  renderVoteReply,
} from '../../blocks/index.js';
import type { OutboxPayload } from '../approvals/outbox-items.js';
import type { Approvals } from '../approvals/service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ApprovalRequest, DeliveryError } from '../core/types.js';
import type { Logger } from '../log.js';
import { toCardView } from '../slack/card-view.js';
import type { Identity } from '../slack/identity.js';
import type { OpenDatabase } from '../store/db.js';
import { deliveryError, type SlackProblem } from './slack-problems.js';

export type Delivery =
  | { kind: 'done' }
  /** A precondition is not met yet (the card is not posted): try again soon without counting. */
  | { kind: 'wait'; why: string };

export interface SlackDeliveryDeps {
  client: WebClient;
  approvals: Approvals;
  database: OpenDatabase;
  audit: AuditLog;
  identity: Identity;
  log: Logger;
  now: () => number;
}

const NO_UNFURL = { unfurl_links: false, unfurl_media: false } as const;

/** Turns one Slack outbox row into Web API calls, always rendering from the stored state. */
export class SlackDelivery {
  constructor(private readonly deps: SlackDeliveryDeps) {}

  async deliver(payload: OutboxPayload, requestId: string | null): Promise<Delivery> {
    if (payload.kind === 'slack.checkpoint') {
      await this.deps.client.chat.postMessage({
        channel: payload.channel,
        text: `Audit checkpoint #${payload.seq}: head ${payload.hash} at ${new Date(payload.at).toISOString()} (key ${payload.keyId}, signature ${payload.signature})`,
        ...NO_UNFURL,
      });
      return { kind: 'done' };
    }
    const request = requestId ? this.deps.approvals.requests.get(requestId) : null;
    if (!request) return { kind: 'done' };
    switch (payload.kind) {
      case 'slack.post_card':
        return this.postCard(request);
      case 'slack.update_card':
        return this.updateCard(request);
      case 'slack.diff_file':
        return this.diffFile(request);
      case 'slack.thread_vote':
        return this.reply(request, (r) =>
          renderVoteReply(this.view(r), {
            userId: payload.userId,
            decision: payload.decision,
            reason: payload.reason,
            at: payload.at,
          }),
        );
      case 'slack.thread_outcome':
        return this.reply(request, (r) => renderOutcomeReply(this.view(r)));
      case 'slack.thread_reminder':
        return this.reminder(request);
      case 'callback':
        throw new Error('callback rows are not Slack rows');
    }
  }

  /** What to do about a Slack error retrying cannot fix, naming the channel as people know it. */
  async explain(problem: SlackProblem, channel: string) {
    let label = `channel ${channel}`;
    if (problem.code !== 'channel_not_found') {
      try {
        const res = await this.deps.client.conversations.info({ channel });
        if (res.channel?.name) label = `#${res.channel.name}`;
      } catch {
        // The ID it is, then (the token itself may be what Slack refuses).
      }
    }
    return deliveryError(problem, label);
  }

  /**
   * The card of `requestId` cannot be posted until someone fixes `error`: the request carries it
   * (CONTRACT §8), and whoever long-polls the request is answered now. Cleared when the card posts.
   */
  markUndeliverable(requestId: string, error: DeliveryError): void {
    const changed = this.deps.database.tx(() => {
      const r = this.deps.approvals.requests.get(requestId);
      if (!r || r.slackTs) return false;
      if (r.deliveryError?.code === error.code && r.deliveryError.message === error.message) return false;
      this.deps.approvals.requests.update(requestId, { deliveryError: error });
      return true;
    });
    if (changed) this.deps.approvals.decisions.notify(requestId);
  }

  private view(r: ApprovalRequest) {
    return toCardView(r, this.deps.approvals.requests.votes(r.id));
  }

  private async postCard(request: ApprovalRequest): Promise<Delivery> {
    if (request.slackTs) return { kind: 'done' };
    let r = request;
    try {
      const learned = await this.deps.identity.resolveRequester(r);
      // Stored (and, when policy requires a verified requester Slack does not know, denied) first,
      // so the card shows the outcome.
      if (Object.keys(learned).length > 0) {
        r = this.deps.approvals.recordRequesterCheck(r.id, learned, this.deps.now()) ?? r;
      }
    } catch (err) {
      // Policy needs the answer before reviewers see the card: try again later.
      if (r.requesterCheck === 'required') throw err;
      this.deps.log.warn('could not resolve the requester; posting without a mention', {
        requestId: r.id,
        error: err,
      });
    }
    const card = renderCard(this.view(r));
    const res = await this.deps.client.chat.postMessage({ channel: r.channel, ...card, ...NO_UNFURL });
    const ts = res.ts as string;
    const channel = (res.channel as string | undefined) ?? r.channel;
    let slackUrl: string | null = null;
    try {
      const link = await this.deps.client.chat.getPermalink({ channel, message_ts: ts });
      slackUrl = (link.permalink as string | undefined) ?? null;
    } catch (err) {
      this.deps.log.warn('chat.getPermalink failed; slack_url stays empty', { requestId: r.id, error: err });
    }
    const now = this.deps.now();
    this.deps.database.tx(() => {
      this.deps.approvals.requests.update(r.id, {
        slackChannel: channel,
        slackTs: ts,
        slackUrl,
        cardPostedAt: now,
        deliveryError: null,
      });
      this.deps.audit.append(
        { type: 'card.posted', requestId: r.id, actor: 'system', data: { channel, ts, permalink: slackUrl } },
        now,
      );
    });
    return { kind: 'done' };
  }

  private async updateCard(request: ApprovalRequest): Promise<Delivery> {
    // Not posted yet: the post will render the current state, so there is nothing to update.
    if (!request.slackTs || !request.slackChannel) return { kind: 'done' };
    const card = renderCard(this.view(request));
    await this.deps.client.chat.update({ channel: request.slackChannel, ts: request.slackTs, ...card });
    return { kind: 'done' };
  }

  private async diffFile(request: ApprovalRequest): Promise<Delivery> {
    if (!request.slackTs || !request.slackChannel) return { kind: 'wait', why: 'card not posted yet' };
    const file = fullDiffFile(this.view(request));
    if (!file) return { kind: 'done' };
    await this.deps.client.files.uploadV2({
      channel_id: request.slackChannel,
      thread_ts: request.slackTs,
      filename: file.filename,
      title: file.title,
      content: file.content,
      initial_comment: 'Full diff of this request',
    });
    return { kind: 'done' };
  }

  private async reply(
    request: ApprovalRequest,
    render: (r: ApprovalRequest) => { text: string; blocks?: unknown[] },
  ): Promise<Delivery> {
    if (!request.slackTs || !request.slackChannel) return { kind: 'wait', why: 'card not posted yet' };
    const message = render(request);
    await this.deps.client.chat.postMessage({
      channel: request.slackChannel,
      thread_ts: request.slackTs,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks as never } : {}),
      ...NO_UNFURL,
    });
    return { kind: 'done' };
  }

  /** Reminds the approvers who have not voted (named users and members of named groups). */
  private async reminder(request: ApprovalRequest): Promise<Delivery> {
    if (request.status !== 'pending') return { kind: 'done' };
    const voted = new Set(this.deps.approvals.requests.votes(request.id).map((v) => v.userId));
    const named =
      request.approvers.find((s) => s.source === 'request' && (s.users.length || s.groups.length)) ??
      request.approvers.find((s) => s.users.length || s.groups.length);
    const people = new Set(named?.users ?? []);
    for (const g of named?.groups ?? []) {
      try {
        for (const u of await this.deps.identity.groupMembers(g)) people.add(u);
      } catch (err) {
        this.deps.log.warn('could not expand a user group for a reminder', { group: g, error: err });
      }
    }
    const requester = request.requesterSlackId ?? request.requester.slack_user_id;
    const waiting = [...people].filter((u) => !voted.has(u) && u !== requester);
    return this.reply(request, (r) => renderReminder(this.view(r), waiting, this.deps.now()));
  }
}
