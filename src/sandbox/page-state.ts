/**
 * What one person sees of the emulated Slack, as page operations: the channel's messages and their
 * threads (replies and files), what only they may see (ephemerals, DMs, replies to their commands),
 * their Home tab and their open modal. A snapshot when the page connects, then one operation per
 * change the emulator announces.
 */

import type { EmulatorEvent } from './emulator-events.js';
import type { Directory } from './render/mrkdwn.js';
import {
  fileHtml,
  homeHtml,
  messageDomId,
  messageHtml,
  modalHtml,
  type PrivateKind,
  threadDomId,
} from './render/surfaces.js';
import type { Message, ResponsePost, SlackEmulator } from './slack-emulator.js';

/** One message, file or notice, placed in the channel (parent null) or in a thread. */
export interface PageItem {
  id: string;
  parent: string | null;
  /** Order within its parent: the emulator's shared timestamp counter. */
  seq: string;
  html: string;
}

export type PageOp =
  | { op: 'item'; item: PageItem }
  | { op: 'home'; html: string }
  | { op: 'modal'; viewId: string; html: string }
  | { op: 'modal_closed'; viewId: string };

export interface Snapshot {
  items: PageItem[];
  home: string;
  modal: { viewId: string; html: string } | null;
}

const isDm = (channel: string) => /^[UWD]/.test(channel);
const dmOf = (channel: string) => (channel.startsWith('D') ? `U${channel.slice(1)}` : channel);

export class PageState {
  constructor(
    private readonly slack: SlackEmulator,
    private readonly dir: Directory,
  ) {}

  private messageItem(m: Message, viewer: string): PageItem | null {
    if (isDm(m.channel)) {
      if (dmOf(m.channel) !== viewer) return null;
      return { id: messageDomId(m.ts), parent: null, seq: m.ts, html: this.notice(m, 'dm') };
    }
    const reply = m.thread_ts !== undefined;
    return {
      id: messageDomId(m.ts),
      parent: reply ? threadDomId(m.thread_ts as string) : null,
      seq: m.ts,
      html: messageHtml(m, { dir: this.dir, reply }),
    };
  }

  private notice(
    m: { channel: string; ts: string; text: string; blocks?: unknown[]; at: number },
    kind: PrivateKind,
  ) {
    return messageHtml(m, { dir: this.dir, private: kind });
  }

  private responseItem(r: ResponsePost, viewer: string): PageItem | null {
    if (this.slack.responseOwners.get(r.token) !== viewer) return null;
    const body = r.body;
    const blocks = Array.isArray(body.blocks) ? (body.blocks as unknown[]) : undefined;
    const m = {
      channel: '',
      ts: r.ts,
      text: String(body.text ?? ''),
      at: r.at,
      ...(blocks ? { blocks } : {}),
    };
    return { id: messageDomId(r.ts), parent: null, seq: r.ts, html: this.notice(m, 'reply') };
  }

  private modalOf(viewer: string): { viewId: string; html: string } | null {
    const open = [...this.slack.views.values()].filter((v) => v.user === viewer).pop();
    return open ? { viewId: open.id, html: modalHtml(open, this.dir) } : null;
  }

  homeHtml(viewer: string): string {
    return homeHtml(this.slack.homes.get(viewer) ?? null, this.dir);
  }

  /** Everything `viewer` sees now, oldest first. */
  snapshot(viewer: string): Snapshot {
    const items: PageItem[] = [];
    for (const m of this.slack.messages) {
      const item = this.messageItem(m, viewer);
      if (item) items.push(item);
    }
    for (const f of this.slack.files) {
      if (f.thread_ts) items.push(this.fileItem(f));
    }
    for (const e of this.slack.ephemeralMessages) {
      if (e.user === viewer)
        items.push({ id: messageDomId(e.ts), parent: null, seq: e.ts, html: this.notice(e, 'ephemeral') });
    }
    for (const r of this.slack.responses) {
      const item = this.responseItem(r, viewer);
      if (item) items.push(item);
    }
    items.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    return { items, home: this.homeHtml(viewer), modal: this.modalOf(viewer) };
  }

  private fileItem(f: SlackEmulator['files'][number]): PageItem {
    return {
      id: `f-${f.id}`,
      parent: f.thread_ts ? threadDomId(f.thread_ts) : null,
      seq: f.ts,
      html: fileHtml(f, this.dir),
    };
  }

  /** What changes on `viewer`'s page after `event` (nothing when it is someone else's). */
  opsFor(event: EmulatorEvent, viewer: string): PageOp[] {
    switch (event.kind) {
      case 'message': {
        const item = this.messageItem(event.message, viewer);
        return item ? [{ op: 'item', item }] : [];
      }
      case 'ephemeral':
        return event.ephemeral.user === viewer
          ? [
              {
                op: 'item',
                item: {
                  id: messageDomId(event.ephemeral.ts),
                  parent: null,
                  seq: event.ephemeral.ts,
                  html: this.notice(event.ephemeral, 'ephemeral'),
                },
              },
            ]
          : [];
      case 'file':
        return [{ op: 'item', item: this.fileItem(event.file) }];
      case 'response': {
        const item = this.responseItem(event.response, viewer);
        return item ? [{ op: 'item', item }] : [];
      }
      case 'home':
        return event.user === viewer ? [{ op: 'home', html: this.homeHtml(viewer) }] : [];
      case 'view':
        return event.view.user === viewer
          ? [{ op: 'modal', viewId: event.view.id, html: modalHtml(event.view, this.dir) }]
          : [];
      case 'view_closed':
        return event.view.user === viewer ? [{ op: 'modal_closed', viewId: event.view.id }] : [];
    }
  }
}
