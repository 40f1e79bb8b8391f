/** What the Slack emulator keeps for people to see, and the changes it announces (for the sandbox page). */

import type { Message, ResponsePost, UploadedFile } from './slack-emulator.js';

/** A message only one person sees (chat.postEphemeral). */
export interface Ephemeral {
  channel: string;
  user: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  at: number;
}

/** A modal opened with views.open, until it is submitted or closed. */
export interface OpenView {
  id: string;
  /** Who it was opened for (the owner of the trigger id), when known. */
  user: string | null;
  view: Record<string, unknown>;
  /** Errors the app asked to show (`response_action: errors`), by block id. */
  errors: Record<string, string> | null;
}

export type EmulatorEvent =
  /** A message was posted (in a channel, a thread or a DM) or updated. */
  | { kind: 'message'; message: Message }
  | { kind: 'ephemeral'; ephemeral: Ephemeral }
  | { kind: 'file'; file: UploadedFile }
  /** Something was posted to a response URL (a command's reply). */
  | { kind: 'response'; response: ResponsePost }
  /** A Home tab was published for `user`. */
  | { kind: 'home'; user: string; view: Record<string, unknown> }
  /** A modal was opened, or its errors changed. */
  | { kind: 'view'; view: OpenView }
  | { kind: 'view_closed'; view: OpenView };
