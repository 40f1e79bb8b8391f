/**
 * What people do in the emulated Slack, delivered to the app's Request URL exactly as Slack delivers
 * it: a button click becomes a signed block_actions payload built from the stored message or view,
 * a modal's submit a view_submission, a slash command its form with a response URL the emulator
 * serves, opening the Home tab an `app_home_opened` event. The app's answer is handled as Slack
 * handles it (a modal closes, or shows the errors the app asked for).
 */

import { randomBytes } from 'node:crypto';
import type { EmulatedUser, SlackEmulator } from './slack-emulator.js';
import {
  type ActionContainer,
  appHomeOpenedEvent,
  blockActionsPayload,
  buttonAction,
  interactivityForm,
  signedSlackHeaders,
  slashCommandForm,
  type ViewStateValues,
  viewSubmissionPayload,
} from './slack-payloads.js';

export interface AppEndpoint {
  /** The app's Request URL, e.g. `http://127.0.0.1:3000/slack/events`. */
  requestUrl: string;
  signingSecret: string;
}

/** Where a button was clicked. */
export type ClickPlace = { message: { channel: string; ts: string } } | { home: true } | { viewId: string };

export type ActionResult = { ok: true } | { ok: false; status: number; error: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const plain = (v: unknown): string => (isObj(v) && typeof v.text === 'string' ? v.text : '');

/** The button `actionId` of the actions block `blockId` (or a section accessory), as stored. */
function findButton(blocks: unknown, blockId: string, actionId: string): Obj | null {
  if (!Array.isArray(blocks)) return null;
  for (const block of blocks) {
    if (!isObj(block) || block.block_id !== blockId) continue;
    const elements = Array.isArray(block.elements) ? block.elements : [block.accessory];
    const found = elements.find((e) => isObj(e) && e.type === 'button' && e.action_id === actionId);
    if (isObj(found)) return found;
  }
  return null;
}

export class WorkspaceActions {
  constructor(
    private readonly slack: SlackEmulator,
    private readonly app: AppEndpoint,
  ) {}

  private person(userId: string): EmulatedUser {
    const user = this.slack.users.get(userId);
    if (!user) throw new Error(`no person ${userId} in this workspace`);
    return user;
  }

  private payloadUser(userId: string) {
    const user = this.person(userId);
    return user.team_id ? { id: user.id, teamId: user.team_id } : { id: user.id };
  }

  private async post(body: string, contentType: 'application/x-www-form-urlencoded' | 'application/json') {
    const res = await fetch(this.app.requestUrl, {
      method: 'POST',
      headers: signedSlackHeaders(this.app.signingSecret, body, contentType),
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  private failed(status: number, what: string): ActionResult {
    return { ok: false, status, error: `the app answered ${status} to ${what}` };
  }

  /** Clicks a button of a message, of `userId`'s Home tab, or of one of their open modals. */
  async click(userId: string, place: ClickPlace, blockId: string, actionId: string): Promise<ActionResult> {
    let container: ActionContainer;
    let blocks: unknown;
    if ('message' in place) {
      const msg = this.slack.messages.find(
        (m) => m.channel === place.message.channel && m.ts === place.message.ts,
      );
      if (!msg) return { ok: false, status: 404, error: 'message_not_found' };
      blocks = msg.blocks;
      container = {
        type: 'message',
        channel: msg.channel,
        ts: msg.ts,
        text: msg.text,
        blocks: msg.blocks ?? [],
      };
    } else if ('home' in place) {
      const home = this.slack.homes.get(userId);
      if (!home) return { ok: false, status: 404, error: 'home_not_published' };
      blocks = home.blocks;
      container = {
        type: 'view',
        view: { id: `VHOME${userId}`, type: 'home', blocks: (blocks as unknown[]) ?? [] },
      };
    } else {
      const open = this.slack.views.get(place.viewId);
      if (!open || open.user !== userId) return { ok: false, status: 404, error: 'view_not_found' };
      blocks = open.view.blocks;
      container = {
        type: 'view',
        view: {
          id: open.id,
          type: 'modal',
          blocks: (blocks as unknown[]) ?? [],
          privateMetadata: String(open.view.private_metadata ?? ''),
        },
      };
    }
    const button = findButton(blocks, blockId, actionId);
    // Slack only sends what is on screen: a button that is gone (a decided card) cannot be clicked.
    if (!button) return { ok: false, status: 409, error: 'button_not_found' };
    const payload = blockActionsPayload({
      user: this.payloadUser(userId),
      container,
      action: buttonAction({
        actionId,
        blockId,
        text: plain(button.text),
        ...(typeof button.value === 'string' ? { value: button.value } : {}),
        ...(typeof button.style === 'string' ? { style: button.style } : {}),
      }),
      triggerId: this.slack.issueTrigger(userId),
      ...(container.type === 'message' ? { responseUrl: this.slack.issueResponseUrl(userId) } : {}),
    });
    const res = await this.post(interactivityForm(payload), 'application/x-www-form-urlencoded');
    return res.status === 200 ? { ok: true } : this.failed(res.status, 'the click');
  }

  /** Presses a modal's submit button with what was typed into its inputs (`{block_id: {action_id: text}}`). */
  async submitView(
    userId: string,
    viewId: string,
    typed: Record<string, Record<string, string>>,
  ): Promise<ActionResult & { errors?: Record<string, string> }> {
    const open = this.slack.views.get(viewId);
    if (!open || open.user !== userId) return { ok: false, status: 404, error: 'view_not_found' };
    const values: ViewStateValues = {};
    for (const block of (open.view.blocks as unknown[]) ?? []) {
      if (!isObj(block) || block.type !== 'input' || !isObj(block.element)) continue;
      const blockId = String(block.block_id ?? '');
      const actionId = String(block.element.action_id ?? '');
      const text = typed[blockId]?.[actionId] ?? '';
      values[blockId] = {
        [actionId]: { type: String(block.element.type), value: text === '' ? null : text },
      };
    }
    const payload = viewSubmissionPayload({
      user: this.payloadUser(userId),
      view: {
        id: open.id,
        callbackId: String(open.view.callback_id ?? ''),
        privateMetadata: String(open.view.private_metadata ?? ''),
        title: open.view.title,
        blocks: (open.view.blocks as unknown[]) ?? [],
      },
      values,
      triggerId: this.slack.issueTrigger(userId),
    });
    const res = await this.post(interactivityForm(payload), 'application/x-www-form-urlencoded');
    if (res.status !== 200) return this.failed(res.status, 'the modal submission');
    const answer = res.text.trim() === '' ? {} : (JSON.parse(res.text) as Obj);
    if (answer.response_action === 'errors' && isObj(answer.errors)) {
      const errors = Object.fromEntries(Object.entries(answer.errors).map(([k, v]) => [k, String(v)]));
      this.slack.setViewErrors(viewId, errors);
      return { ok: true, errors };
    }
    this.slack.closeView(viewId);
    return { ok: true };
  }

  /** Dismisses a modal without submitting it (the app did not ask to be told). */
  closeView(userId: string, viewId: string): ActionResult {
    const open = this.slack.views.get(viewId);
    if (!open || open.user !== userId) return { ok: false, status: 404, error: 'view_not_found' };
    this.slack.closeView(viewId);
    return { ok: true };
  }

  /** Types `/command text` in a channel; the reply arrives through the response URL. */
  async slashCommand(
    userId: string,
    channel: { id: string; name: string },
    command: string,
    text: string,
  ): Promise<ActionResult> {
    const responseUrl = this.slack.issueResponseUrl(userId);
    const form = slashCommandForm({
      user: this.payloadUser(userId),
      command,
      text,
      channel,
      responseUrl,
      triggerId: this.slack.issueTrigger(userId),
    });
    const res = await this.post(new URLSearchParams(form).toString(), 'application/x-www-form-urlencoded');
    if (res.status !== 200) return this.failed(res.status, command);
    // A reply in the acknowledgement itself is shown like one sent to the response URL.
    if (res.text.trim() !== '') {
      let body: Obj;
      try {
        body = JSON.parse(res.text) as Obj;
      } catch {
        body = { text: res.text };
      }
      if (typeof body.text === 'string' || Array.isArray(body.blocks)) {
        await fetch(responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      }
    }
    return { ok: true };
  }

  /** Opens the app's Home tab (Slack sends `app_home_opened` every time). */
  async openHome(userId: string): Promise<ActionResult> {
    this.person(userId);
    const event = appHomeOpenedEvent(userId, `Ev${randomBytes(6).toString('hex').toUpperCase()}`);
    const res = await this.post(JSON.stringify(event), 'application/json');
    return res.status === 200 ? { ok: true } : this.failed(res.status, 'app_home_opened');
  }
}
