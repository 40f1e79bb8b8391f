/**
 * What Slack sends to an app's Request URL, built the way Slack builds it: interactivity payloads
 * (block_actions, view_submission), slash command forms and Events API callbacks, plus Slack's v0
 * request signature. The sandbox sends these for the page's clicks; the component tests send the
 * same shapes, so both exercise the product exactly as Slack does.
 */

import { createHmac } from 'node:crypto';

export interface SlackTeam {
  id: string;
  domain: string;
}

/** The workspace the sandbox and the tests install the app in. */
export const HOME_TEAM: SlackTeam = { id: 'T0FAKE', domain: 'fake' };
export const APP_ID = 'A0FAKE';

/** A person as a payload names them. */
export interface PayloadUser {
  id: string;
  /** Defaults to the installing workspace. */
  teamId?: string;
}

/** Slack's v0 signature of a body sent at `timestamp` (Unix seconds). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** The headers Slack sends with a body: its content type, the timestamp and the signature. */
export function signedSlackHeaders(
  secret: string,
  body: string,
  contentType: 'application/x-www-form-urlencoded' | 'application/json',
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, timestamp, body),
  };
}

/** Interactivity payloads travel as a form with one field, `payload`, holding the JSON. */
export function interactivityForm(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function userOf(user: PayloadUser) {
  const name = user.id.toLowerCase();
  return { id: user.id, username: name, name, team_id: user.teamId ?? HOME_TEAM.id };
}

/** One clicked button, as it appears in `actions` of a block_actions payload. */
export function buttonAction(button: {
  actionId: string;
  blockId: string;
  value?: string;
  text: string;
  style?: string;
}): Record<string, unknown> {
  return {
    action_id: button.actionId,
    block_id: button.blockId,
    text: { type: 'plain_text', text: button.text },
    ...(button.value !== undefined ? { value: button.value } : {}),
    ...(button.style !== undefined ? { style: button.style } : {}),
    type: 'button',
    action_ts: String(Date.now() / 1000),
  };
}

/** Where a clicked button was: a channel message, or a view (the App Home tab or a modal). */
export type ActionContainer =
  | {
      type: 'message';
      channel: string;
      channelName?: string;
      ts: string | undefined;
      text?: string;
      blocks?: unknown[];
    }
  | {
      type: 'view';
      view: {
        id: string;
        type: 'home' | 'modal';
        blocks: unknown[];
        privateMetadata?: string;
        hash?: string;
      };
    };

/** A block_actions payload: someone clicked `action` in `container`. */
export function blockActionsPayload(opts: {
  user: PayloadUser;
  container: ActionContainer;
  action: Record<string, unknown>;
  triggerId: string;
  responseUrl?: string;
}): Record<string, unknown> {
  const base = {
    type: 'block_actions',
    user: userOf(opts.user),
    api_app_id: APP_ID,
    token: 'legacy-token',
    trigger_id: opts.triggerId,
    team: HOME_TEAM,
    enterprise: null,
    is_enterprise_install: false,
    actions: [opts.action],
  };
  const c = opts.container;
  if (c.type === 'message') {
    return {
      ...base,
      container: { type: 'message', message_ts: c.ts, channel_id: c.channel, is_ephemeral: false },
      channel: { id: c.channel, name: c.channelName ?? 'approvals' },
      message: {
        type: 'message',
        ts: c.ts,
        text: c.text ?? '',
        ...(c.blocks !== undefined ? { blocks: c.blocks } : {}),
      },
      ...(opts.responseUrl !== undefined ? { response_url: opts.responseUrl } : {}),
    };
  }
  return {
    ...base,
    container: { type: 'view', view_id: c.view.id },
    view: {
      id: c.view.id,
      team_id: HOME_TEAM.id,
      type: c.view.type,
      blocks: c.view.blocks,
      private_metadata: c.view.privateMetadata ?? '',
      callback_id: '',
      state: { values: {} },
      hash: c.view.hash ?? 'h',
      app_id: APP_ID,
      bot_id: 'BCSBOT',
    },
  };
}

/** What a person typed into a modal's inputs: `{block_id: {action_id: {type, value}}}`. */
export type ViewStateValues = Record<string, Record<string, { type: string; value: string | null }>>;

/** A view_submission payload: someone pressed the submit button of a modal. */
export function viewSubmissionPayload(opts: {
  user: PayloadUser;
  view: {
    id: string;
    callbackId: string;
    privateMetadata: string;
    title?: unknown;
    blocks?: unknown[];
    hash?: string;
  };
  values: ViewStateValues;
  triggerId: string;
}): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: HOME_TEAM,
    user: userOf(opts.user),
    api_app_id: APP_ID,
    token: 'legacy-token',
    trigger_id: opts.triggerId,
    view: {
      id: opts.view.id,
      team_id: HOME_TEAM.id,
      type: 'modal',
      callback_id: opts.view.callbackId,
      private_metadata: opts.view.privateMetadata,
      state: { values: opts.values },
      hash: opts.view.hash ?? 'h',
      title: opts.view.title ?? { type: 'plain_text', text: 'Modal' },
      blocks: opts.view.blocks ?? [],
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** The form fields of a slash command invocation. */
export function slashCommandForm(opts: {
  user: PayloadUser;
  command: string;
  text: string;
  channel: { id: string; name: string };
  responseUrl: string;
  triggerId: string;
}): Record<string, string> {
  const team = opts.user.teamId ?? HOME_TEAM.id;
  return {
    token: 'legacy-token',
    team_id: team,
    team_domain: team === HOME_TEAM.id ? HOME_TEAM.domain : team.toLowerCase(),
    channel_id: opts.channel.id,
    channel_name: opts.channel.name,
    user_id: opts.user.id,
    user_name: opts.user.id.toLowerCase(),
    command: opts.command,
    text: opts.text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: opts.responseUrl,
    trigger_id: opts.triggerId,
  };
}

/** An Events API callback for `app_home_opened` (the person opened the app's Home tab). */
export function appHomeOpenedEvent(userId: string, eventId: string): Record<string, unknown> {
  return {
    token: 'legacy-token',
    team_id: HOME_TEAM.id,
    api_app_id: APP_ID,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'app_home_opened',
      user: userId,
      channel: `D${userId.slice(1)}`,
      tab: 'home',
      event_ts: String(Date.now() / 1000),
    },
  };
}
