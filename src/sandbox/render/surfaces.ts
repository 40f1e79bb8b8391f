/**
 * The surfaces people see in Slack, as HTML: a message (with the place for its thread), a private
 * notice (ephemeral, DM or command reply), an uploaded file (a diff is highlighted), a modal and
 * the App Home tab. Pure: data in, HTML text out.
 */

import { blocksToHtml } from './blocks.js';
import { diffHtml, looksLikeDiff } from './diff.js';
import { emojiHtml } from './emoji.js';
import { attrs, domId, esc } from './html.js';
import { type Directory, EMPTY_DIRECTORY, mrkdwnToHtml, plainToHtml } from './mrkdwn.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const APP_NAME = 'Countersign';

export interface ShownMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  /** Unix ms. */
  at: number;
}

/** Why a message is only visible to the reader. */
export type PrivateKind = 'ephemeral' | 'reply' | 'dm';

const PRIVATE_NOTE: Record<PrivateKind, string> = {
  ephemeral: 'Only visible to you',
  reply: 'Only visible to you · reply to your command',
  dm: 'Only visible to you · direct message',
};

export function messageDomId(ts: string): string {
  return domId('m', ts);
}

export function threadDomId(ts: string): string {
  return domId('t', ts);
}

function timeHtml(at: number): string {
  const iso = new Date(at).toISOString();
  return `<time${attrs({ datetime: iso, 'data-format': '{time}' })}>${esc(`${iso.slice(11, 16)} UTC`)}</time>`;
}

function meta(at: number, note: string | null): string {
  const priv = note === null ? '' : ` <span class="msg-private">${esc(note)}</span>`;
  return `<div class="msg-meta"><span class="msg-author">${APP_NAME}</span> <span class="app-badge">APP</span> ${timeHtml(at)}${priv}</div>`;
}

/** A message's content: its blocks when it has some (as Slack shows them), else its text. */
export function contentHtml(
  m: { text: string; blocks?: unknown[] },
  dir: Directory = EMPTY_DIRECTORY,
): string {
  return Array.isArray(m.blocks) && m.blocks.length > 0
    ? blocksToHtml(m.blocks, { dir })
    : `<div class="bk-text">${mrkdwnToHtml(m.text, dir)}</div>`;
}

/**
 * A message of the channel or of a thread. A top-level message carries an empty place for its replies;
 * the page keeps that place when the message is updated.
 */
export function messageHtml(
  m: ShownMessage,
  opts: { dir?: Directory; reply?: boolean; private?: PrivateKind } = {},
): string {
  const id = messageDomId(m.ts);
  const classes = ['msg', opts.reply ? 'msg-reply' : 'msg-top', opts.private ? 'msg-ephemeral' : '']
    .filter(Boolean)
    .join(' ');
  const body = `<div class="msg-body">${meta(m.at, opts.private ? PRIVATE_NOTE[opts.private] : null)}<div class="msg-content">${contentHtml(m, opts.dir)}</div></div>`;
  const thread =
    opts.reply || opts.private
      ? ''
      : `<div class="thread"${attrs({ id: threadDomId(m.ts), 'aria-label': 'Thread replies' })}></div>`;
  return `<article${attrs({ class: classes, id, 'data-channel': m.channel, 'data-ts': m.ts, 'aria-label': opts.private ? PRIVATE_NOTE[opts.private] : 'Message from Countersign' })}>${body}${thread}</article>`;
}

export interface ShownFile {
  id: string;
  ts: string;
  filename: string;
  title?: string;
  content: string;
  comment?: string;
  at: number;
}

/** An uploaded file, shown in the thread with its content (a unified diff is highlighted line by line). */
export function fileHtml(f: ShownFile, dir: Directory = EMPTY_DIRECTORY): string {
  const comment = f.comment ? `<div class="bk-text">${mrkdwnToHtml(f.comment, dir)}</div>` : '';
  const diff = f.filename.endsWith('.diff') || f.filename.endsWith('.patch') || looksLikeDiff(f.content);
  const code = diff ? diffHtml(f.content) : esc(f.content);
  const title = f.title ? `<span class="file-title">${plainToHtml(f.title, false)}</span> ` : '';
  return `<article${attrs({ class: 'msg msg-reply msg-file', id: domId('f', f.id), 'data-ts': f.ts, 'aria-label': `File ${f.filename}` })}><div class="msg-body">${meta(f.at, null)}<div class="msg-content">${comment}<figure class="file"><figcaption>${emojiHtml('page_facing_up') ?? ''} ${title}<span class="file-name">${esc(f.filename)}</span></figcaption><pre${attrs({ class: diff ? 'code diff' : 'code', tabindex: 0 })}><code>${code}</code></pre></figure></div></div></article>`;
}

/** A modal (views.open) as a dialog: its title, blocks (inputs with any errors), Cancel and submit. */
export function modalHtml(
  open: { id: string; view: Obj; errors: Record<string, string> | null },
  dir: Directory = EMPTY_DIRECTORY,
): string {
  const v = open.view;
  const titleId = domId('mt', open.id);
  const title = isObj(v.title) ? plainToHtml(String(v.title.text ?? '')) : 'Dialog';
  const close = isObj(v.close) ? plainToHtml(String(v.close.text ?? 'Cancel')) : 'Cancel';
  const submit = isObj(v.submit) ? plainToHtml(String(v.submit.text ?? 'Submit')) : null;
  const danger = /deny|delete|remove/i.test(isObj(v.submit) ? String(v.submit.text) : '');
  const blocks = blocksToHtml(v.blocks, { dir, errors: open.errors, idPrefix: domId('mi', open.id) });
  const submitButton =
    submit === null
      ? ''
      : `<button type="submit" class="bk-button ${danger ? 'danger' : 'primary'}">${submit}</button>`;
  return `<dialog${attrs({ class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'data-view-id': open.id })}><form class="modal-form" method="dialog"><h2 class="modal-title" id="${titleId}">${title}</h2><div class="modal-blocks">${blocks}</div><div class="modal-actions"><button type="button" class="bk-button modal-close">${close}</button>${submitButton}</div></form></dialog>`;
}

/** The App Home tab as published (views.publish), or an invitation to open it. */
export function homeHtml(view: Obj | null, dir: Directory = EMPTY_DIRECTORY): string {
  if (view === null) return '<p class="home-empty">Opening the Home tab…</p>';
  return `<div class="home-view">${blocksToHtml(view.blocks, { dir })}</div>`;
}
