import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { type HomeModel, type HomeNotice, renderHome } from '../../blocks/home-view.js';
import { VIEW_DENY } from '../../blocks/ids.js';
import { isMember } from '../core/decide.js';
import { isAdmin } from './admins.js';
import type { SlackActor } from './cast-vote.js';
import { type ReadDeps, requestedBy, toLines, waitingFor } from './commands-model.js';
import { IdentityError } from './identity.js';

/** Re-renders and publishes one person's Home tab, with an optional notice on top. Never throws. */
export type HomeRefresh = (client: WebClient, actor: SlackActor, notice: HomeNotice | null) => Promise<void>;

export const HOME_WAITING_LIMIT = 20;
export const HOME_REQUESTED_LIMIT = 10;

const OUTSIDER =
  'Countersign is only for members of the workspace where it is installed (or of its Enterprise Grid organisation); people from other workspaces, such as Slack Connect partners, see no requests here.';

/** True when Slack says the viewer belongs to another workspace (unknown counts as a member here: the lists below check again). */
async function outsider(deps: ReadDeps, actor: SlackActor): Promise<boolean> {
  try {
    return !isMember(deps.approvals.workspace, await deps.identity.user(actor.id));
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
    return false;
  }
}

export async function homeModel(
  deps: ReadDeps,
  actor: SlackActor,
  notice: HomeNotice | null,
): Promise<HomeModel> {
  if (await outsider(deps, actor)) {
    return {
      notice: { kind: 'refused', text: OUTSIDER },
      waiting: [],
      waitingTotal: 0,
      waitingProblem: null,
      requested: [],
      requestedTotal: 0,
      admin: null,
    };
  }
  const waiting = await waitingFor(deps, actor);
  const requested = await requestedBy(deps, actor.id, HOME_REQUESTED_LIMIT);
  // The admin summary is a convenience: when the user groups cannot be read it is simply left out.
  const admin = (await isAdmin(actor.id, deps.admins, deps.identity)) === 'yes';
  return {
    notice,
    waiting: await toLines(deps, waiting.items.slice(0, HOME_WAITING_LIMIT)),
    waitingTotal: waiting.items.length,
    waitingProblem: waiting.problem,
    requested: await toLines(deps, requested.items),
    requestedTotal: requested.total,
    admin: admin ? { channels: await deps.listing.pendingByChannel() } : null,
  };
}

interface DenySubmission {
  type: 'view_submission';
  user: { id: string; team_id?: string };
  team?: { id: string } | null;
  enterprise?: { id: string } | null;
  view: { callback_id: string; private_metadata: string };
}

function isDenySubmission(body: unknown): body is DenySubmission {
  const b = body as Partial<DenySubmission> | undefined;
  return b?.type === 'view_submission' && b.view?.callback_id === VIEW_DENY && typeof b.user?.id === 'string';
}

/**
 * The App Home: published on `app_home_opened`, and again after a vote cast from it. Returns the
 * refresher the card buttons use when they are clicked on the Home tab.
 */
export function registerHome(app: App, deps: ReadDeps): HomeRefresh {
  const refresh: HomeRefresh = async (client, actor, notice) => {
    try {
      const view = renderHome(await homeModel(deps, actor, notice), deps.now());
      await client.views.publish({ user_id: actor.id, view });
    } catch (err) {
      deps.log.warn('could not publish the App Home', { user: actor.id, error: err });
    }
  };

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await refresh(client, { id: event.user, teamId: null, enterpriseId: null }, null);
  });

  // A deny typed into the modal (opened from the Home tab or a card) is recorded by the view listener;
  // once it has run, the voter's Home no longer offers that request.
  app.use(async ({ body, client, next }) => {
    if (!isDenySubmission(body)) return next();
    const denied = async () =>
      (await deps.approvals.requests.votes(body.view.private_metadata)).some(
        (v) => v.userId === body.user.id && v.decision === 'deny',
      );
    const before = await denied();
    await next();
    if (before || !(await denied())) return;
    const actor = {
      id: body.user.id,
      teamId: body.user.team_id ?? body.team?.id ?? null,
      enterpriseId: body.enterprise?.id ?? null,
    };
    await refresh(client, actor, {
      kind: 'done',
      text: 'Your denial was recorded; the card in the channel is updated.',
    });
  });

  return refresh;
}
