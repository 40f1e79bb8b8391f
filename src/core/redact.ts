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
  // Every short text of the request goes through the patterns in one pass (see `textEditsMany`);
  // `masked(i)` is the i-th text queued, redacted.
  const texts: string[] = [];
  const queue = (s: string) => texts.push(s) - 1;
  const title = queue(input.title);
  const summary = input.summary === undefined ? -1 : queue(input.summary);
  const resource = input.resource === undefined ? -1 : queue(input.resource);
  const environment = input.environment === undefined ? -1 : queue(input.environment);
  const name = input.requester.name === undefined ? -1 : queue(input.requester.name);
  const links = input.links?.map((l) => ({ text: queue(l.text), url: queue(l.url) }));
  const context = Object.entries(input.context ?? {}).map(([key, raw]) => ({
    key,
    raw,
    newKey: queue(key),
    // A string value under a key that does not name a secret is redacted like any text.
    value: typeof raw === 'string' && !secretValue(key, raw) ? queue(raw) : -1,
  }));
  const done = r.texts(texts);
  const masked = (i: number) => done[i] as string;

  const value: CreateRequestInput = { ...input, title: masked(title) };
  if (summary >= 0) value.summary = masked(summary);
  if (resource >= 0) value.resource = masked(resource);
  if (environment >= 0) value.environment = masked(environment);
  if (name >= 0) value.requester = { ...input.requester, name: masked(name) };
  if (links !== undefined) value.links = links.map((l) => ({ text: masked(l.text), url: masked(l.url) }));
  if (input.diff !== undefined) value.diff = r.diff(input.diff);
  if (input.context !== undefined) {
    const out: Record<string, string | number | boolean> = {};
    for (const c of context) {
      let newKey = masked(c.newKey);
      while (Object.hasOwn(out, newKey)) newKey += '_';
      out[newKey] = c.value >= 0 ? masked(c.value) : r.contextValue(c.key, c.raw);
    }
    value.context = out;
  }
  return { value, count: r.count };
}

/** A context value masked whole because its key names a secret (`db_password: hunter2`). */
function secretValue(key: string, value: string | number | boolean): boolean {
  return typeof value !== 'boolean' && SECRET_KEY_NAME.test(key) && !isPlaceholder(String(value));
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

  /** `text` of each of `texts`, found in one pass (the same result as one call each). */
  texts(texts: string[]): string[] {
    const edits = textEditsMany(texts);
    return texts.map((s, i) => this.apply(s, edits[i] as Edit[]));
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
    if (secretValue(key, value)) {
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

/** The edits that mask the credentials in one text. */
export function textEdits(s: string): Edit[] {
  return mergeEdits(pemLineEdits(s, false), findSpans(s));
}

/**
 * `textEdits` of several texts from one run of every pattern: a request has a dozen short texts,
 * and 86 patterns started on each cost ~4x more than on the texts joined by line feeds. No pattern
 * matches a line break, and a line feed looks to every pattern's boundaries like the start or end
 * of a text, so each text gets the spans it would get alone (test/unit/redact-property.test.ts holds
 * the two equal on random texts built from the secret samples, anchors and syntax). A span that crosses from one text into
 * the next would break that; should one ever appear, every text is scanned on its own instead.
 */
export function textEditsMany(texts: string[]): Edit[][] {
  if (texts.length < 2) return texts.map((s) => (s.length === 0 ? [] : textEdits(s)));
  const spans = findSpans(texts.join('\n'));
  const out: Edit[][] = [];
  let k = 0;
  let offset = 0;
  for (const s of texts) {
    const end = offset + s.length;
    const own: Edit[] = [];
    for (; k < spans.length && (spans[k] as Edit).start < end; k++) {
      const span = spans[k] as Edit;
      if (span.end > end) return texts.map((t) => (t.length === 0 ? [] : textEdits(t)));
      own.push({
        start: span.start - offset,
        end: span.end - offset,
        text: span.text,
        secrets: span.secrets,
      });
    }
    out.push(s.length === 0 ? [] : mergeEdits(pemLineEdits(s, false), own));
    offset = end + 1;
  }
  return out;
}
