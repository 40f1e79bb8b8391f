import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { ACTION_APPROVE, ACTION_DENY } from '../../blocks/ids.js';
import { renderDenyModal } from '../../blocks/index.js';
import { precheck } from '../core/decide.js';
import { toCardView } from './card-view.js';
import { bareClicker, type CastResult, castVote, type SlackActor, type VoteDeps } from './cast-vote.js';
import type { HomeRefresh } from './home.js';
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

/**
 * Approve and Deny buttons on the card and on the App Home tab. Both ack at once; the card changes via
 * the outbox. A click on the Home tab has no channel: its outcome is told by re-publishing the Home
 * view with a notice on top (where the person is looking), and the voted request leaves the list.
 */
export function registerActions(app: App, deps: VoteDeps, home?: HomeRefresh): void {
  const fromHome = (body: BlockAction) => home !== undefined && body.view?.type === 'home';
  const tell = (client: WebClient, body: BlockAction, text: string): Promise<void> =>
    home && fromHome(body)
      ? home(client, actorOf(body), { kind: 'refused', text })
      : tellPrivately(client, body, text, deps);
  const report = async (client: WebClient, body: BlockAction, result: CastResult) => {
    if (!result.ok) await tell(client, body, result.text);
    else if (home && fromHome(body))
      await home(client, actorOf(body), {
        kind: 'done',
        text: 'Your approval was recorded; the card in the channel is updated.',
      });
  };

  app.action<BlockAction<ButtonAction>>(
    { action_id: ACTION_APPROVE },
    async ({ ack, body, action, client }) => {
      await ack();
      const result = await castVote(deps, action.value ?? '', actorOf(body), { decision: 'approve' });
      await report(client, body, result);
    },
  );

  app.action<BlockAction<ButtonAction>>({ action_id: ACTION_DENY }, async ({ ack, body, action, client }) => {
    await ack();
    const id = action.value ?? '';
    const request = await deps.approvals.requests.get(id);
    if (!request) return tell(client, body, 'This approval request no longer exists.');
    const votes = await deps.approvals.requests.votes(id);
    // Refusals known from stored state are told at once, not after the reason has been typed.
    const refusal = precheck(request, votes, body.user.id, deps.now());
    if (refusal !== null) {
      await deps.approvals.refuse(id, bareClicker(actorOf(body)), refusal, 'deny', deps.now());
      return tell(client, body, refusalText(refusal, request.status));
    }
    // The trigger id lasts 3 seconds: open the modal with data already on hand, then warm the cache.
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderDenyModal(toCardView(request, votes)),
      });
    } catch (err) {
      deps.log.error('views.open failed for the deny modal', { requestId: id, error: err });
      return tell(client, body, 'Slack could not open the deny dialog; please click Deny again.');
    }
    deps.identity.user(body.user.id).catch(() => {});
  });
}
