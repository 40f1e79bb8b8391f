/**
 * Slack's Block Kit limits, and checkers that list every way a message or modal breaks them.
 * Lengths are counted in UTF-16 units (`string.length`), which is never less than what Slack counts.
 * The checkers accept untrusted JSON (or a JSON string for `blocks`/the view), as a fake Slack server receives it.
 */

export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_MODAL_BLOCKS = 100;
export const MAX_SECTION_TEXT = 3000;
export const MAX_SECTION_FIELDS = 10;
export const MAX_SECTION_FIELD_TEXT = 2000;
export const MAX_HEADER_TEXT = 150;
export const MAX_BUTTON_TEXT = 75;
export const MAX_BUTTON_VALUE = 2000;
export const MAX_BUTTON_URL = 3000;
export const MAX_BUTTON_ACCESSIBILITY_LABEL = 75;
export const MAX_ACTION_ID = 255;
export const MAX_BLOCK_ID = 255;
export const MAX_ACTIONS_ELEMENTS = 25;
export const MAX_CONTEXT_ELEMENTS = 10;
export const MAX_CONTEXT_ELEMENT_TEXT = 2000;
/** About how much text (fallback `text` plus every text in the blocks) one message may carry. */
export const MAX_MESSAGE_TOTAL_TEXT = 12_000;
export const MAX_FALLBACK_TEXT = 4000;
export const MAX_MODAL_TITLE = 24;
/** Modal submit and close button texts. */
export const MAX_MODAL_BUTTON = 24;
export const MAX_PRIVATE_METADATA = 3000;
export const MAX_CALLBACK_ID = 255;
export const MAX_INPUT_LABEL = 2000;
export const MAX_INPUT_HINT = 2000;
export const MAX_PLACEHOLDER = 150;
/** Upper bound for a plain_text_input's `max_length` and `min_length`. */
export const MAX_INPUT_LENGTH = 3000;
export const MAX_IMAGE_URL = 3000;
export const MAX_IMAGE_ALT_TEXT = 2000;
export const MAX_MARKDOWN_BLOCK_TEXT = 12_000;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Report {
  readonly problems: string[] = [];
  total = 0;
  readonly blockIds = new Set<string>();

  add(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  /** A string field with a maximum length; `required` adds a problem when it is missing. */
  str(v: unknown, path: string, max: number, required = false): string | null {
    if (v === undefined) {
      if (required) this.add(path, 'is required');
      return null;
    }
    if (typeof v !== 'string') {
      this.add(path, 'must be a string');
      return null;
    }
    if (v.length > max) this.add(path, `is ${v.length} characters (max ${max})`);
    return v;
  }

  /** A text object (`plain_text` or `mrkdwn`) of 1..max characters, counted in the total. */
  text(v: unknown, path: string, max: number, plainOnly = false): void {
    if (!isObj(v)) {
      this.add(path, 'must be a text object');
      return;
    }
    if (v.type !== 'plain_text' && v.type !== 'mrkdwn')
      this.add(`${path}.type`, 'must be plain_text or mrkdwn');
    else if (plainOnly && v.type !== 'plain_text') this.add(`${path}.type`, 'must be plain_text');
    const text = this.str(v.text, `${path}.text`, max, true);
    if (text === null) return;
    if (text.length === 0) this.add(`${path}.text`, 'must not be empty');
    this.total += text.length;
  }

  array(v: unknown, path: string, min: number, max: number): unknown[] {
    if (!Array.isArray(v)) {
      this.add(path, 'must be an array');
      return [];
    }
    if (v.length < min) this.add(path, `has ${v.length} items (min ${min})`);
    if (v.length > max) this.add(path, `has ${v.length} items (max ${max})`);
    return v;
  }
}

function checkButton(r: Report, el: Obj, path: string): void {
  r.text(el.text, `${path}.text`, MAX_BUTTON_TEXT, true);
  r.str(el.value, `${path}.value`, MAX_BUTTON_VALUE);
  r.str(el.url, `${path}.url`, MAX_BUTTON_URL);
  r.str(el.accessibility_label, `${path}.accessibility_label`, MAX_BUTTON_ACCESSIBILITY_LABEL);
  if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
    r.add(`${path}.style`, 'must be primary or danger');
  }
}

function checkElement(r: Report, el: unknown, path: string, actionIds: Set<string>): void {
  if (!isObj(el)) {
    r.add(path, 'must be an object');
    return;
  }
  const actionId = r.str(el.action_id, `${path}.action_id`, MAX_ACTION_ID);
  if (actionId !== null) {
    if (actionIds.has(actionId)) r.add(`${path}.action_id`, `"${actionId}" is used twice in the block`);
    actionIds.add(actionId);
  }
  if (el.type === 'button') checkButton(r, el, path);
  if (el.type === 'plain_text_input') checkPlainTextInput(r, el, path);
}

function checkPlainTextInput(r: Report, el: Obj, path: string): void {
  const length = (key: 'max_length' | 'min_length'): number | null => {
    const v = el[key];
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_INPUT_LENGTH) {
      r.add(`${path}.${key}`, `must be an integer from 0 to ${MAX_INPUT_LENGTH}`);
      return null;
    }
    return v;
  };
  const max = length('max_length');
  const min = length('min_length');
  if (max !== null && max < 1) r.add(`${path}.max_length`, 'must be at least 1');
  if (max !== null && min !== null && min > max) r.add(`${path}.min_length`, 'is greater than max_length');
  if (el.placeholder !== undefined) r.text(el.placeholder, `${path}.placeholder`, MAX_PLACEHOLDER, true);
  const initial = r.str(el.initial_value, `${path}.initial_value`, max ?? MAX_INPUT_LENGTH);
  if (initial !== null) r.total += initial.length;
}

/** Counts the text of blocks this checker does not look into (rich text and the like). */
function countLooseText(r: Report, v: unknown): void {
  if (Array.isArray(v)) for (const item of v) countLooseText(r, item);
  else if (isObj(v)) {
    for (const [key, value] of Object.entries(v)) {
      if (key === 'text' && typeof value === 'string') r.total += value.length;
      else countLooseText(r, value);
    }
  }
}

function checkBlock(r: Report, block: unknown, path: string): void {
  if (!isObj(block)) {
    r.add(path, 'must be an object');
    return;
  }
  const blockId = r.str(block.block_id, `${path}.block_id`, MAX_BLOCK_ID);
  if (blockId !== null) {
    if (r.blockIds.has(blockId)) r.add(`${path}.block_id`, `"${blockId}" is used twice`);
    r.blockIds.add(blockId);
  }
  switch (block.type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined)
        r.add(path, 'a section needs text or fields');
      if (block.text !== undefined) r.text(block.text, `${path}.text`, MAX_SECTION_TEXT);
      if (block.fields !== undefined) {
        const fields = r.array(block.fields, `${path}.fields`, 1, MAX_SECTION_FIELDS);
        for (const [i, f] of fields.entries()) r.text(f, `${path}.fields[${i}]`, MAX_SECTION_FIELD_TEXT);
      }
      if (block.accessory !== undefined) checkElement(r, block.accessory, `${path}.accessory`, new Set());
      return;
    }
    case 'header':
      r.text(block.text, `${path}.text`, MAX_HEADER_TEXT, true);
      return;
    case 'context': {
      const elements = r.array(block.elements, `${path}.elements`, 1, MAX_CONTEXT_ELEMENTS);
      elements.forEach((el, i) => {
        if (isObj(el) && el.type === 'image') {
          r.str(el.alt_text, `${path}.elements[${i}].alt_text`, MAX_IMAGE_ALT_TEXT, true);
        } else r.text(el, `${path}.elements[${i}]`, MAX_CONTEXT_ELEMENT_TEXT);
      });
      return;
    }
    case 'actions': {
      const elements = r.array(block.elements, `${path}.elements`, 1, MAX_ACTIONS_ELEMENTS);
      const ids = new Set<string>();
      for (const [i, el] of elements.entries()) checkElement(r, el, `${path}.elements[${i}]`, ids);
      return;
    }
    case 'input':
      r.text(block.label, `${path}.label`, MAX_INPUT_LABEL, true);
      if (block.hint !== undefined) r.text(block.hint, `${path}.hint`, MAX_INPUT_HINT, true);
      checkElement(r, block.element, `${path}.element`, new Set());
      return;
    case 'image':
      r.str(block.alt_text, `${path}.alt_text`, MAX_IMAGE_ALT_TEXT, true);
      r.str(block.image_url, `${path}.image_url`, MAX_IMAGE_URL);
      if (block.title !== undefined) r.text(block.title, `${path}.title`, MAX_IMAGE_ALT_TEXT, true);
      return;
    case 'markdown': {
      const text = r.str(block.text, `${path}.text`, MAX_MARKDOWN_BLOCK_TEXT, true);
      if (text !== null) r.total += text.length;
      return;
    }
    case 'divider':
      return;
    default:
      if (typeof block.type !== 'string') r.add(`${path}.type`, 'is required');
      countLooseText(r, block);
  }
}

function parseIfString(v: unknown, path: string, r: Report): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    r.add(path, 'is not valid JSON');
    return undefined;
  }
}

function checkBlocks(r: Report, blocks: unknown, max: number): unknown[] {
  if (blocks === undefined) return [];
  const list = r.array(blocks, 'blocks', 0, max);
  for (const [i, b] of list.entries()) checkBlock(r, b, `blocks[${i}]`);
  return list;
}

/** Every way a message (`chat.postMessage` / `chat.update` / `chat.postEphemeral`) breaks Slack's limits. */
export function checkMessage(message: { text?: unknown; blocks?: unknown }): string[] {
  const r = new Report();
  const text = r.str(message.text, 'text', MAX_FALLBACK_TEXT);
  if (text !== null) r.total += text.length;
  const blocks = checkBlocks(r, parseIfString(message.blocks, 'blocks', r), MAX_MESSAGE_BLOCKS);
  if ((text === null || text.trim() === '') && blocks.length === 0) r.add('message', 'needs text or blocks');
  if (r.total > MAX_MESSAGE_TOTAL_TEXT) {
    r.add('message', `carries ${r.total} characters of text (max about ${MAX_MESSAGE_TOTAL_TEXT})`);
  }
  return r.problems;
}

/** Every way a view (`views.open` / `views.push` / `views.update` / `views.publish`) breaks Slack's limits. */
export function checkModal(view: unknown): string[] {
  const r = new Report();
  const v = parseIfString(view, 'view', r);
  if (!isObj(v)) {
    if (r.problems.length === 0) r.add('view', 'must be an object');
    return r.problems;
  }
  if (v.type !== 'modal' && v.type !== 'home') r.add('type', 'must be modal or home');
  if (v.type === 'modal') r.text(v.title, 'title', MAX_MODAL_TITLE, true);
  if (v.submit !== undefined) r.text(v.submit, 'submit', MAX_MODAL_BUTTON, true);
  if (v.close !== undefined) r.text(v.close, 'close', MAX_MODAL_BUTTON, true);
  r.str(v.private_metadata, 'private_metadata', MAX_PRIVATE_METADATA);
  r.str(v.callback_id, 'callback_id', MAX_CALLBACK_ID);
  r.str(v.external_id, 'external_id', MAX_CALLBACK_ID);
  const blocks = checkBlocks(r, parseIfString(v.blocks, 'blocks', r), MAX_MODAL_BLOCKS);
  if (v.blocks === undefined) r.add('blocks', 'is required');
  const hasInput = blocks.some((b) => isObj(b) && b.type === 'input');
  if (v.type === 'modal' && hasInput && v.submit === undefined)
    r.add('submit', 'is required with input blocks');
  return r.problems;
}

/** How much text a message carries, as `checkMessage` counts it against MAX_MESSAGE_TOTAL_TEXT. */
export function messageTextLength(message: { text?: unknown; blocks?: unknown }): number {
  const r = new Report();
  if (typeof message.text === 'string') r.total += message.text.length;
  checkBlocks(r, message.blocks, Number.POSITIVE_INFINITY);
  return r.total;
}
