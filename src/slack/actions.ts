import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { ACTION_APPROVE, ACTION_DENY } from '../../blocks/ids.js';
import { renderDenyModal } from '../../blocks/index.js';
import { precheck } from '../core/decide.js';
import { toCardView } from './card-view.js';
import { bareClicker, type CastResult, castVote, type SlackActor, type VoteDeps } from './cast-vote.js';
import { refusalText } from './refusal-text.js';

export function actorOf(body: BlockAction): SlackActor {
  return {
    id: body.user.id,
    teamId: body.user.team_id ?? body.team?.id ?? null,
    enterpriseId: body.enterprise?.id ?? null,
  };
}

/** Tells the clicker privately: an ephemeral message where they clicked, else a DM from the app. */
export async function tellPrivately(
  client: WebClient,
  body: BlockAction,
  text: string,
  deps: VoteDeps,
): Promise<void> {
  try {
    const channel = body.channel?.id;
    if (channel) {
      await client.chat.postEphemeral({ channel, user: body.user.id, text });
    } else {
      await client.chat.postMessage({ channel: body.user.id, text });
    }
  } catch (err) {
    deps.log.warn('could not send a private message', { user: body.user.id, error: err });
  }
}

async function report(client: WebClient, body: BlockAction, result: CastResult, deps: VoteDeps) {
  if (!result.ok) await tellPrivately(client, body, result.text, deps);
}

/** Approve and Deny buttons on the card. Both ack at once; the card changes via the outbox. */
export function registerActions(app: App, deps: VoteDeps): void {
  app.action<BlockAction<ButtonAction>>(
    { action_id: ACTION_APPROVE },
    async ({ ack, body, action, client }) => {
      await ack();
      const result = await castVote(deps, action.value ?? '', actorOf(body), { decision: 'approve' });
      await report(client, body, result, deps);
    },
  );

  app.action<BlockAction<ButtonAction>>({ action_id: ACTION_DENY }, async ({ ack, body, action, client }) => {
    await ack();
    const id = action.value ?? '';
    const request = deps.approvals.requests.get(id);
    if (!request) return tellPrivately(client, body, 'This approval request no longer exists.', deps);
    const votes = deps.approvals.requests.votes(id);
    // Refusals known from stored state are told at once, not after the reason has been typed.
    const refusal = precheck(request, votes, body.user.id, deps.now());
    if (refusal !== null) {
      deps.approvals.refuse(id, bareClicker(actorOf(body)), refusal, 'deny', deps.now());
      return tellPrivately(client, body, refusalText(refusal, request.status), deps);
    }
    // The trigger id lasts 3 seconds: open the modal with data already on hand, then warm the cache.
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderDenyModal(toCardView(request, votes)),
      });
    } catch (err) {
      deps.log.error('views.open failed for the deny modal', { requestId: id, error: err });
      return tellPrivately(
        client,
        body,
        'Slack could not open the deny dialog; please click Deny again.',
        deps,
      );
    }
    deps.identity.user(body.user.id).catch(() => {});
  });
}
