import type { ValidationIssue } from './request-schema.js';

// ES2024 string methods (Node 20 has them; the project's TypeScript lib is ES2023).
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/**
 * Strings arrive from pipelines, agents and Slack payloads; some cannot be stored or hashed:
 * a lone UTF-16 surrogate (`"\ud800"` in JSON) is not well-formed Unicode, so the audit log's
 * canonical JSON (RFC 8785) refuses it, and PostgreSQL refuses U+0000 in text. Both are refused
 * where they arrive, with the field named, instead of failing later as a 500.
 */
export function textProblem(s: string): string | null {
  if (!s.isWellFormed())
    return 'is not well-formed Unicode (it holds a lone UTF-16 surrogate); send valid UTF-8 text';
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000), which cannot be stored';
  return null;
}

/** `s` made storable for a message: lone surrogates and NUL become U+FFFD. */
export function storableText(s: string): string {
  return s.toWellFormed().replaceAll('\u0000', '\ufffd');
}

/** How many problems are listed at most (a body of a million bad keys gets the first ones). */
const MAX_ISSUES = 50;

/**
 * Every string in a parsed JSON value, object keys included, that `textProblem` refuses, with its
 * dotted path (`links.0.text`, `context.<key>`). Iterative, so any nesting depth is safe.
 */
export function illFormedStrings(value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  const name = (path: string[]) => (path.length > 0 ? path.join('.') : '(body)');
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const item = stack.pop() as { value: unknown; path: string[] };
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value);
      if (problem) issues.push({ path: name(item.path), message: problem });
    } else if (Array.isArray(item.value)) {
      for (let i = item.value.length - 1; i >= 0; i--)
        stack.push({ value: item.value[i], path: [...item.path, String(i)] });
    } else if (item.value !== null && typeof item.value === 'object') {
      const entries = Object.entries(item.value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        const problem = textProblem(key);
        const shown = storableText(key);
        if (problem) issues.push({ path: name([...item.path, shown]), message: `(the key) ${problem}` });
        else stack.push({ value: child, path: [...item.path, shown] });
      }
    }
  }
  return issues;
}
