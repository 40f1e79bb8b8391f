/**
 * Block Kit blocks as accessible HTML: header, section (text, fields, button accessory), context,
 * divider, actions (buttons with their styles and accessibility labels), input (plain_text_input),
 * image (its alt text only: the page loads nothing from other hosts), markdown, and a visible note
 * for anything else. Pure: JSON in, HTML text out.
 */

import { attrs, domId, esc } from './html.js';
import { type Directory, EMPTY_DIRECTORY, mrkdwnToHtml, plainToHtml } from './mrkdwn.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export interface BlockOptions {
  dir?: Directory;
  /** Errors to show under inputs, by block id (a modal the app answered with `response_action: errors`). */
  errors?: Record<string, string> | null;
  /** Prefix for ids of form controls, so two surfaces never share one. */
  idPrefix?: string;
}

/** A text object (`mrkdwn` or `plain_text`) as inline HTML. */
export function textObject(v: unknown, dir: Directory = EMPTY_DIRECTORY): string {
  if (!isObj(v)) return '';
  const text = str(v.text) ?? '';
  return v.type === 'mrkdwn' ? mrkdwnToHtml(text, dir) : plainToHtml(text, v.emoji !== false);
}

/** The plain words of a text object (for labels and attributes). */
function plainWords(v: unknown): string {
  return isObj(v) ? (str(v.text) ?? '') : '';
}

function button(el: Obj, blockId: string): string {
  const style = el.style === 'primary' || el.style === 'danger' ? ` ${el.style}` : '';
  const label = plainToHtml(plainWords(el.text), true);
  const url = str(el.url);
  if (url !== null && /^https?:\/\//i.test(url)) {
    return `<a${attrs({ class: `bk-button${style}`, href: url, rel: 'noopener noreferrer', target: '_blank', 'aria-label': str(el.accessibility_label) })}>${label}</a>`;
  }
  return `<button${attrs({
    type: 'button',
    class: `bk-button${style}`,
    'data-block-id': blockId,
    'data-action-id': str(el.action_id) ?? '',
    'aria-label': str(el.accessibility_label),
  })}>${label}</button>`;
}

/** An interactive element; the kinds the product does not use are shown as a note. */
function element(el: unknown, blockId: string): string {
  if (!isObj(el)) return '';
  if (el.type === 'button') return button(el, blockId);
  return `<span class="bk-unsupported">[${esc(String(el.type ?? 'element'))}]</span>`;
}

function imageAlt(el: Obj): string {
  return `<span class="bk-image-alt" role="img"${attrs({ 'aria-label': str(el.alt_text) ?? 'image' })}>[image: ${esc(str(el.alt_text) ?? 'no description')}]</span>`;
}

function input(block: Obj, blockId: string, opts: BlockOptions): string {
  const el = isObj(block.element) ? block.element : {};
  const actionId = str(el.action_id) ?? '';
  const id = domId(opts.idPrefix ?? 'in', `${blockId}.${actionId}`);
  const error = opts.errors?.[blockId] ?? null;
  const optional = block.optional === true ? ' <span class="bk-optional">(optional)</span>' : '';
  const label = `<label${attrs({ for: id })}>${plainToHtml(plainWords(block.label))}${optional}</label>`;
  const hint = isObj(block.hint)
    ? `<div class="bk-hint" id="${id}-hint">${textObject(block.hint, opts.dir)}</div>`
    : '';
  const err = error === null ? '' : `<div class="bk-error" id="${id}-error" role="alert">${esc(error)}</div>`;
  const described = [hint && `${id}-hint`, err && `${id}-error`].filter(Boolean).join(' ') || null;
  if (el.type !== 'plain_text_input') {
    return `<div class="bk-input">${label}<span class="bk-unsupported">[${esc(String(el.type ?? 'input'))}]</span></div>`;
  }
  const common = attrs({
    id,
    name: id,
    'data-block-id': blockId,
    'data-action-id': actionId,
    placeholder: plainWords(el.placeholder) || null,
    required: block.optional !== true,
    minlength: typeof el.min_length === 'number' ? el.min_length : null,
    maxlength: typeof el.max_length === 'number' ? el.max_length : null,
    'aria-describedby': described,
    'aria-invalid': error === null ? null : 'true',
  });
  const initial = str(el.initial_value) ?? '';
  const control =
    el.multiline === true
      ? `<textarea${common} rows="4">${esc(initial)}</textarea>`
      : `<input type="text"${common}${attrs({ value: initial || null })}>`;
  return `<div class="bk-input">${label}${control}${hint}${err}</div>`;
}

/** One block as HTML. */
export function blockToHtml(block: unknown, opts: BlockOptions = {}): string {
  if (!isObj(block)) return '';
  const dir = opts.dir ?? EMPTY_DIRECTORY;
  const blockId = str(block.block_id) ?? '';
  switch (block.type) {
    case 'header':
      return `<h3 class="bk-header">${textObject(block.text, dir)}</h3>`;
    case 'section': {
      const text = isObj(block.text) ? `<div class="bk-text">${textObject(block.text, dir)}</div>` : '';
      const fields = Array.isArray(block.fields)
        ? `<div class="bk-fields">${block.fields.map((f) => `<div class="bk-field">${textObject(f, dir)}</div>`).join('')}</div>`
        : '';
      const accessory = isObj(block.accessory)
        ? `<div class="bk-accessory">${block.accessory.type === 'image' ? imageAlt(block.accessory) : element(block.accessory, blockId)}</div>`
        : '';
      return `<div class="bk-section${accessory ? ' has-accessory' : ''}"><div class="bk-main">${text}${fields}</div>${accessory}</div>`;
    }
    case 'context': {
      const parts = (Array.isArray(block.elements) ? block.elements : []).map((el) =>
        isObj(el) && el.type === 'image'
          ? imageAlt(el)
          : `<span class="bk-context-item">${textObject(el, dir)}</span>`,
      );
      return `<div class="bk-context">${parts.join('')}</div>`;
    }
    case 'divider':
      return '<hr class="bk-divider">';
    case 'actions': {
      const els = (Array.isArray(block.elements) ? block.elements : []).map((el) => element(el, blockId));
      return `<div class="bk-actions" role="group" aria-label="Actions">${els.join('')}</div>`;
    }
    case 'input':
      return input(block, blockId, opts);
    case 'image': {
      const title = isObj(block.title) ? `<figcaption>${textObject(block.title, dir)}</figcaption>` : '';
      return `<figure class="bk-image">${title}${imageAlt(block)}</figure>`;
    }
    case 'markdown':
      return `<div class="bk-markdown">${esc(str(block.text) ?? '').replace(/\n/g, '<br>')}</div>`;
    default:
      return `<div class="bk-unsupported">[a ${esc(String(block.type ?? 'unknown'))} block, not shown in the sandbox]</div>`;
  }
}

/** A list of blocks as HTML. */
export function blocksToHtml(blocks: unknown, opts: BlockOptions = {}): string {
  return (Array.isArray(blocks) ? blocks : []).map((b) => blockToHtml(b, opts)).join('');
}
