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
import { deliveryError, type SlackProblem } from './slack-problems.js';

export type Delivery =
  /** Delivered; `covered` names other open rows this delivery made unnecessary (marked done too). */
  | { kind: 'done'; covered?: number[] }
  /** A precondition is not met yet (the card is not posted): try again soon without counting. */
  | { kind: 'wait'; why: string };

export interface SlackDeliveryDeps {
  client: WebClient;
  approvals: Approvals;
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
    const request = requestId ? await this.deps.approvals.requests.get(requestId) : null;
    if (!request) return { kind: 'done' };
    switch (payload.kind) {
      case 'slack.post_card':
        return this.postCard(request);
      case 'slack.update_card':
        return this.updateCard(request);
      case 'slack.diff_file':
        return this.diffFile(request);
      case 'slack.thread_vote':
        return this.reply(request, async (r) =>
          renderVoteReply(await this.view(r), {
            userId: payload.userId,
            decision: payload.decision,
            reason: payload.reason,
            at: payload.at,
          }),
        );
      case 'slack.thread_outcome':
        return this.reply(request, async (r) => renderOutcomeReply(await this.view(r)));
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
  async markUndeliverable(requestId: string, error: DeliveryError): Promise<void> {
    const changed = await this.deps.approvals.store.transaction(async (t) => {
      const r = await t.requests.getForUpdate(requestId);
      if (!r || r.slackTs) return false;
      if (r.deliveryError?.code === error.code && r.deliveryError.message === error.message) return false;
      await t.requests.update(requestId, { deliveryError: error });
      // Long polls on other replicas are answered too.
      await t.announceDecision(requestId);
      return true;
    });
    if (changed) this.deps.approvals.decisions.notify(requestId);
  }

  private async view(r: ApprovalRequest) {
    return toCardView(r, await this.deps.approvals.requests.votes(r.id));
  }

  private async postCard(request: ApprovalRequest): Promise<Delivery> {
    if (request.slackTs) return { kind: 'done' };
    let r = request;
    try {
      const learned = await this.deps.identity.resolveRequester(r);
      // Stored (and, when policy requires a verified requester Slack does not know, denied) first,
      // so the card shows the outcome.
      if (Object.keys(learned).length > 0) {
        r = (await this.deps.approvals.recordRequesterCheck(r.id, learned, this.deps.now())) ?? r;
      }
    } catch (err) {
      // Policy needs the answer before reviewers see the card: try again later.
      if (r.requesterCheck === 'required') throw err;
      this.deps.log.warn('could not resolve the requester; posting without a mention', {
        requestId: r.id,
        error: err,
      });
    }
    const card = renderCard(await this.view(r));
    const res = await this.deps.client.chat.postMessage({ channel: r.channel, ...card, ...NO_UNFURL });
    const ts = res.ts as string;
    const channel = (res.channel as string | undefined) ?? r.channel;
    const now = this.deps.now();
    // Stored at once, before anything else is awaited: a replica that dies after this point leaves
    // a card another replica will not post again (the window for a second card is this one write).
    await this.deps.approvals.store.transaction((t) =>
      t.requests.update(r.id, { slackChannel: channel, slackTs: ts, cardPostedAt: now, deliveryError: null }),
    );
    let slackUrl: string | null = null;
    try {
      const link = await this.deps.client.chat.getPermalink({ channel, message_ts: ts });
      slackUrl = (link.permalink as string | undefined) ?? null;
    } catch (err) {
      this.deps.log.warn('chat.getPermalink failed; slack_url stays empty', { requestId: r.id, error: err });
    }
    await this.deps.approvals.store.transaction(async (t) => {
      await t.requests.update(r.id, { slackUrl });
      await this.deps.audit.append(
        t,
        { type: 'card.posted', requestId: r.id, actor: 'system', data: { channel, ts, permalink: slackUrl } },
        this.deps.now(),
      );
    });
    return { kind: 'done' };
  }

  /**
   * Renders the card from one consistent reading: the request (its row held, so no change to it
   * commits meanwhile), its votes and the card updates still queued for it. Those updates were
   * queued by changes this rendering shows, so they are covered by it; an update queued by a later
   * change stays and renders that. So the final state is rendered once, whatever replica runs it.
   */
  private async updateCard(stale: ApprovalRequest): Promise<Delivery> {
    const read = await this.deps.approvals.store.transaction(async (t) => {
      const request = await t.requests.getForUpdate(stale.id);
      if (!request) return null;
      const votes = await t.requests.votes(request.id);
      const covered = await t.outbox.openIds(request.id, 'slack.update_card');
      return { request, votes, covered };
    });
    const request = read?.request;
    // Not posted yet: the post will render the current state, so there is nothing to update.
    if (!read || !request?.slackTs || !request.slackChannel)
      return { kind: 'done', covered: read?.covered ?? [] };
    const card = renderCard(toCardView(request, read.votes));
    await this.deps.client.chat.update({ channel: request.slackChannel, ts: request.slackTs, ...card });
    return { kind: 'done', covered: read.covered };
  }

  private async diffFile(request: ApprovalRequest): Promise<Delivery> {
    if (!request.slackTs || !request.slackChannel) return { kind: 'wait', why: 'card not posted yet' };
    const file = fullDiffFile(await this.view(request));
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
    render: (r: ApprovalRequest) => Promise<{ text: string; blocks?: unknown[] }>,
  ): Promise<Delivery> {
    if (!request.slackTs || !request.slackChannel) return { kind: 'wait', why: 'card not posted yet' };
    const message = await render(request);
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
    const voted = new Set((await this.deps.approvals.requests.votes(request.id)).map((v) => v.userId));
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
    return this.reply(request, async (r) => renderReminder(await this.view(r), waiting, this.deps.now()));
  }
}
