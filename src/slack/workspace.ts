import type { WebClient } from '@slack/web-api';
import type { Workspace } from '../core/types.js';

/** The installing workspace and the bot's own user, as `auth.test` reports them for the token. */
export interface PinnedWorkspace extends Workspace {
  botUserId: string;
}

const platformError = (err: unknown): string | undefined =>
  (err as { data?: { error?: string } } | undefined)?.data?.error;

/**
 * Asks Slack which workspace the bot token belongs to (`auth.test`), once at start: only its
 * members (or, on Enterprise Grid, members of its organisation) may vote, use `/approvals` or see
 * requests on the App Home. Throws with the reason and the fix when the token does not work.
 */
export async function pinWorkspace(client: WebClient): Promise<PinnedWorkspace> {
  let res: Awaited<ReturnType<WebClient['auth']['test']>>;
  try {
    res = await client.auth.test();
  } catch (err) {
    const code = platformError(err) ?? (err as Error).message;
    throw new Error(
      `Slack refused SLACK_BOT_TOKEN (auth.test: ${code}); check the token (xoxb-...) of the installed app, or reinstall the app to the workspace`,
    );
  }
  const teamId = res.team_id || null;
  const enterpriseId = res.enterprise_id || null;
  if (!res.user_id || (teamId === null && enterpriseId === null)) {
    throw new Error(
      'auth.test did not name a workspace or a bot user for SLACK_BOT_TOKEN; use a bot token (xoxb-...)',
    );
  }
  return { teamId: res.is_enterprise_install ? null : teamId, enterpriseId, botUserId: res.user_id };
}
