import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactDiff, redactRequest, redactText, textEdits, textEditsMany } from '../../src/core/redact.js';
import type { Edit } from '../../src/core/redact-spans.js';
import { SECRET_PATTERNS } from '../../src/core/secret-patterns.js';
import { SECRET_SAMPLES } from '../support/secret-samples.js';

/**
 * Properties of redaction on random input: a diff keeps its shape (same lines, each with its
 * first character, hunk headers untouched), and a known secret planted anywhere (between
 * separators) never survives. The random text mixes secrets, their anchors, near-misses, key names,
 * invisible characters and diff syntax, so the patterns see the pieces they look for.
 */
const samples = Object.values(SECRET_SAMPLES);

const syntax = fc.constantFrom(
  'password=',
  'password: ',
  'token: ',
  '-----BEGIN PRIVATE KEY-----',
  '-----END PRIVATE KEY-----',
  '@@ -1,2 +1,3 @@',
  '://',
  ':',
  '@',
  '"',
  "'",
  '\\n',
  '\u200b',
  '\u00ad',
  ' ',
  '\t',
  '\r',
  '-p',
  'Bearer ',
  'eyJ',
  'ghp_',
);
/** The start of a sample, at most 12 characters of it: an anchor or a near-miss, never a whole secret. */
const nearMiss = fc.tuple(fc.constantFrom(...samples), fc.nat({ max: 12 })).map(([s, n]) => s.slice(0, n));
/** Random text around the pieces redaction looks for; `withSecrets` adds whole samples. */
const pieces = (withSecrets: boolean): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 2, arbitrary: nearMiss },
    { weight: 2, arbitrary: syntax },
    ...(withSecrets ? [{ weight: 2, arbitrary: fc.constantFrom(...samples) }] : []),
  );
const piece = pieces(true);
const text = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(''));
const diffLine = fc
  .tuple(fc.constantFrom(' ', '+', '-', '\\', '@', 'd', '+', '-'), text)
  .map(([c, t]) => c + t.replace(/\n/g, ''));
const diff = fc.oneof(
  fc.array(diffLine, { minLength: 1, maxLength: 20 }).map((lines) => lines.join('\n')),
  fc.array(text, { maxLength: 10 }).map((lines) => lines.join('\n')),
);

function firstChars(s: string): string[] {
  return s.split('\n').map((line) => line.charAt(0));
}

describe('redaction on random input', () => {
  it('keeps a diff its shape', () => {
    fc.assert(
      fc.property(diff, (d) => {
        const out = redactDiff(d).text;
        const before = d.split('\n');
        const after = out.split('\n');
        expect(after).toHaveLength(before.length);
        expect(firstChars(out)).toEqual(firstChars(d));
        before.forEach((line, i) => {
          if (/^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/.test(line)) {
            const header = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(line)?.[0] ?? '';
            expect(after[i]?.startsWith(header)).toBe(true);
          }
        });
      }),
      { numRuns: 400 },
    );
  });

  it('never lets a planted secret through, whatever surrounds it', () => {
    const separated = fc.constantFrom(' ', '\n', '"', "'", ' (', '\t', ', ');
    // No whole sample around the planted one, so any copy left in the output is the planted one.
    const around = fc.array(pieces(false), { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        around,
        separated,
        fc.constantFrom(...samples),
        separated,
        around,
        (before, open, secret, close, after) => {
          const input = `${before}${open}${secret}${close}${after}`;
          const out = redactText(input).text;
          expect(out.includes(secret)).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('finds in several texts at once exactly what it finds in each alone (the request path)', () => {
    // Texts that end and start with the pieces patterns look for, so a match could try to run
    // from one text into the next; some texts hold line breaks of their own.
    const texts = fc.array(fc.oneof(text, piece, fc.constant('')), { maxLength: 12 });
    fc.assert(
      fc.property(texts, (all) => {
        // What an edit does: where, the replacement, the secrets it hides.
        const plain = (edits: Edit[]) =>
          edits.map(({ start, end, text, secrets }) => ({ start, end, text, secrets }));
        expect(textEditsMany(all).map(plain)).toEqual(
          all.map((s) => plain(s.length === 0 ? [] : textEdits(s))),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('redacts every field of a request as it would redact that field alone', () => {
    const field = fc.oneof(text, fc.constantFrom(...samples));
    fc.assert(
      fc.property(fc.array(field, { minLength: 8, maxLength: 8 }), (f) => {
        const input = {
          action: 'deploy',
          title: f[0] || 't',
          summary: f[1] as string,
          resource: f[2] as string,
          environment: f[3] as string,
          requester: { slack_user_id: 'U1', name: f[4] as string },
          links: [{ text: f[5] as string, url: f[6] as string }],
          context: { note: f[7] as string, db_password: f[7] as string, port: 5432, dry: true },
        } as unknown as Parameters<typeof redactRequest>[0];
        const one = (s: string) => redactText(s).text;
        const { value } = redactRequest(input);
        expect(value).toMatchObject({
          title: one(input.title),
          summary: one(f[1] as string),
          resource: one(f[2] as string),
          environment: one(f[3] as string),
          requester: { name: one(f[4] as string) },
          links: [{ text: one(f[5] as string), url: one(f[6] as string) }],
        });
        expect(value.context?.note).toBe(one(f[7] as string));
        expect(value.context?.port).toBe(5432);
        expect(value.context?.dry).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('no pattern matches a line break (what the one pass over joined texts relies on)', () => {
    // Every sample broken by a line feed at each place: a pattern that could step over it would
    // join the end of one text to the start of the next.
    for (const pattern of SECRET_PATTERNS) {
      for (const sample of samples) {
        for (let i = 1; i < sample.length; i++) {
          const text = `${sample.slice(0, i)}\n${sample.slice(i)}`;
          pattern.regex.lastIndex = 0;
          for (let m = pattern.regex.exec(text); m !== null; m = pattern.regex.exec(text)) {
            if (m[0].includes('\n'))
              throw new Error(`${pattern.kind} matched across a line break in ${JSON.stringify(text)}`);
            if (m[0].length === 0) pattern.regex.lastIndex++;
          }
        }
      }
    }
  });
});
