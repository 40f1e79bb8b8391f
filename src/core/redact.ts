import { fitSpansToDiffLines, pemLineEdits } from './redact-lines.js';
import { type Edit, findSpans, mergeEdits } from './redact-spans.js';
import type { CreateRequestInput } from './request-schema.js';
import { isPlaceholder, SECRET_KEY_NAME, VALUE_MARKER } from './secret-patterns.js';

/**
 * Redaction: a request must never carry a credential into Slack or the database.
 *
 * Detection uses the vetted patterns in secret-patterns.ts, plus a line-by-line scan for
 * multi-line PEM private keys. Only the secret itself is replaced; a recognisable prefix stays
 * (`AKIA…[redacted]`, `password=[redacted]`, `postgres://user:[redacted]@host/db`).
 * `count` is the number of distinct secret values masked.
 */
export interface Redacted {
  text: string;
  count: number;
}

/** Masks credentials in free text (titles, summaries, context values, URLs). */
export function redactText(s: string): Redacted {
  const redactor = new Redactor();
  return { text: redactor.text(s), count: redactor.count };
}

/**
 * Masks credentials in a unified diff without changing its shape: the same number of lines,
 * every line keeps its first character (' ', '+', '-', '@', '\\', 'd', ...), hunk headers are
 * left intact, and each line of a multi-line private key becomes `<first char>[redacted private key line]`.
 */
export function redactDiff(diff: string): Redacted {
  const redactor = new Redactor();
  return { text: redactor.diff(diff), count: redactor.count };
}

/**
 * Masks credentials in every free-text field of a request: title, summary, resource, environment,
 * context (keys and values; the whole value when its key names a secret, e.g. `db_password`),
 * links (text and url), the requester's name, and the diff (shape preserved, see `redactDiff`).
 * Identifiers (action, requester email and Slack ID, approvers) and callback_url are left as they are.
 * `count` counts each distinct secret once across all fields.
 */
export function redactRequest(input: CreateRequestInput): { value: CreateRequestInput; count: number } {
  const r = new Redactor();
  const value: CreateRequestInput = { ...input, title: r.text(input.title) };
  if (input.summary !== undefined) value.summary = r.text(input.summary);
  if (input.resource !== undefined) value.resource = r.text(input.resource);
  if (input.environment !== undefined) value.environment = r.text(input.environment);
  if (input.requester.name !== undefined)
    value.requester = { ...input.requester, name: r.text(input.requester.name) };
  if (input.links !== undefined)
    value.links = input.links.map((l) => ({ text: r.text(l.text), url: r.text(l.url) }));
  if (input.diff !== undefined) value.diff = r.diff(input.diff);
  if (input.context !== undefined) {
    const context: Record<string, string | number | boolean> = {};
    for (const [key, raw] of Object.entries(input.context)) {
      let newKey = r.text(key);
      while (Object.hasOwn(context, newKey)) newKey += '_';
      context[newKey] = r.contextValue(key, raw);
    }
    value.context = context;
  }
  return { value, count: r.count };
}

// ---------------------------------------------------------------------------------------------

/** Collects distinct secrets across several fields. */
class Redactor {
  private readonly secrets = new Set<string>();

  get count(): number {
    return this.secrets.size;
  }

  text(s: string): string {
    if (s.length === 0) return s;
    return this.apply(s, textEdits(s));
  }

  diff(s: string): string {
    if (s.length === 0) return s;
    const lineEdits = pemLineEdits(s, true);
    const spans = fitSpansToDiffLines(s, findSpans(s));
    return this.apply(s, mergeEdits(lineEdits, spans));
  }

  contextValue(key: string, value: string | number | boolean): string | number | boolean {
    if (typeof value === 'boolean') return value;
    const text = String(value);
    if (SECRET_KEY_NAME.test(key) && !isPlaceholder(text)) {
      // Count what the patterns recognise inside the value (so a token counts once across fields), else the value.
      const found = textEdits(text).flatMap((edit) => edit.secrets);
      for (const secret of found.length > 0 ? found : [text]) this.secrets.add(secret);
      return VALUE_MARKER;
    }
    if (typeof value === 'number') return value;
    return this.text(value);
  }

  private apply(s: string, edits: Edit[]): string {
    if (edits.length === 0) return s;
    const parts: string[] = [];
    let at = 0;
    for (const edit of edits) {
      parts.push(s.slice(at, edit.start), edit.text);
      at = edit.end;
      for (const secret of edit.secrets) this.secrets.add(secret);
    }
    parts.push(s.slice(at));
    return parts.join('');
  }
}

function textEdits(s: string): Edit[] {
  return mergeEdits(pemLineEdits(s, false), findSpans(s));
}
