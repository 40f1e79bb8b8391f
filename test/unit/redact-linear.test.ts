import { describe, expect, it } from 'vitest';
import { redactDiff, redactText } from '../../src/core/redact.js';
import { SECRET_PATTERNS, type SecretPattern } from '../../src/core/secret-patterns.js';
import { fake } from '../support/fake-secrets.js';
import { SECRET_SAMPLES } from '../support/secret-samples.js';

/**
 * Redaction runs on 1 MiB diffs sent by an untrusted caller, so every secret pattern must take
 * time linear in its input, whatever the input. Each pattern runs on 1 MiB inputs built to defeat
 * it (its anchor repeated, glued or separated, and near-misses cut from a real match), and must
 * stay within a bound measured against a plain 1 MiB scan in the same run: one pass of a word
 * regex over 1 MiB of ordinary text. The bound is generous, since a loaded machine slows both;
 * a backtracking blow-up costs hundreds or thousands of plain scans, so it cannot hide in it. A
 * measurement over the bound is repeated (scan and pattern) and judged on the best ratio, so one
 * scheduling hiccup does not fail the suite.
 */
const MIB = 1 << 20;
/** Work allowed for one pattern over 1 MiB, in plain scans. */
const PATTERN_FACTOR = 50;
/** Work allowed for a whole redaction over 1 MiB (every pattern and the glue between them), in plain scans per pattern. */
const REDACTION_FACTOR = 3;

const fill = (unit: string, size = MIB) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Every match of a global regex, without building match objects (the work is the engine's). */
function scan(regex: RegExp, text: string): number {
  regex.lastIndex = 0;
  let n = 0;
  while (regex.test(text)) n++;
  regex.lastIndex = 0;
  return n;
}

function timed(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const PLAIN_TEXT = fill('deploy the api-gateway to prod.eu_1 at 10:30=ok/done; ');
const WORDS = /[A-Za-z0-9_]+/g;
const plainScan = () =>
  Math.max(
    timed(() => scan(WORDS, PLAIN_TEXT)),
    0.1,
  );
scan(WORDS, PLAIN_TEXT);

/**
 * Checks that each of `works` costs at most `factor` plain scans. The scan is timed once up front;
 * a work over the bound is timed twice more, each time with a fresh scan, and judged on its best ratio.
 */
function expectWithin(factor: number, works: [string, () => unknown][]): void {
  const base = Math.min(plainScan(), plainScan());
  for (const [what, work] of works) {
    let ratio = timed(work) / base;
    let detail = `${(ratio * base).toFixed(1)} ms against a plain scan of ${base.toFixed(1)} ms`;
    for (let attempt = 0; attempt < 2 && ratio > factor; attempt++) {
      const again = plainScan();
      const ms = timed(work);
      if (ms / again < ratio) {
        ratio = ms / again;
        detail = `${ms.toFixed(1)} ms against a plain scan of ${again.toFixed(1)} ms`;
      }
    }
    if (process.env.REDACT_TIMINGS) console.log(`${what}: ${ratio.toFixed(1)} (${detail})`);
    expect(ratio, `${what}: ${detail}`).toBeLessThanOrEqual(factor);
  }
}

/** Where the sample's match starts and ends, and how long its kept anchor is. */
function anchorOf(pattern: SecretPattern, sample: string) {
  pattern.regex.lastIndex = 0;
  const m = pattern.regex.exec(sample);
  pattern.regex.lastIndex = 0;
  if (!m) throw new Error(`the sample for ${pattern.kind} does not match its pattern`);
  const groups = m.indices?.groups ?? {};
  const secret = groups.secret ?? groups.secretDq ?? groups.secretSq;
  return { match: m[0], keep: Math.max((secret?.[0] ?? m.index) - m.index, 1) };
}

/**
 * Inputs of `size` characters that a backtracking pattern would choke on: its anchor and
 * near-misses cut from a real match, repeated glued or separated, and the anchor followed by a
 * long run of a body character or of spaces.
 */
function hostileInputs(pattern: SecretPattern, size = MIB): string[] {
  const sample = SECRET_SAMPLES[pattern.kind] as string;
  const { match, keep } = anchorOf(pattern, sample);
  const anchor = match.slice(0, keep);
  const nearMiss = match.slice(0, -1);
  const half = match.slice(0, Math.ceil((keep + match.length) / 2));
  const units = [
    ...['', '-', ' '].flatMap((sep) => [anchor + sep, nearMiss + sep]),
    `${half}.`,
    half,
    match,
    `${match}-`,
    `${sample} `,
  ];
  return [
    ...units.map((unit) => fill(unit, size)),
    anchor + (match.charAt(keep) || 'a').repeat(size - keep),
    anchor + ' '.repeat(size - keep),
  ];
}

describe('secret patterns run in linear time', () => {
  it('has a sample for every pattern, and each sample is masked', () => {
    for (const pattern of SECRET_PATTERNS) {
      const sample = SECRET_SAMPLES[pattern.kind];
      expect(sample, `test/support/secret-samples.ts needs a sample for ${pattern.kind}`).toBeDefined();
      expect(redactText(sample as string).count, pattern.kind).toBeGreaterThan(0);
    }
  });

  it.each(SECRET_PATTERNS.map((p) => [p.kind, p] as const))(
    '%s on 1 MiB of hostile input',
    (_kind, pattern) => {
      const sample = SECRET_SAMPLES[pattern.kind] as string;
      // V8 interprets a regex on its first runs and compiles it after: measure the compiled one.
      for (let i = 0; i < 3; i++) scan(pattern.regex, `${sample} ${sample}`);
      expectWithin(
        PATTERN_FACTOR,
        hostileInputs(pattern).map((input) => [
          `${pattern.kind} on ${JSON.stringify(input.slice(0, 30))}…`,
          () => scan(pattern.regex, input),
        ]),
      );
    },
  );

  it('redacts whole texts and diffs of hostile input in linear time', { timeout: 120_000 }, () => {
    const share = Math.floor(MIB / SECRET_PATTERNS.length);
    // Every pattern's anchors and near-misses in one text: a slice of two of its hostile inputs.
    const mix = (variant: number) =>
      SECRET_PATTERNS.map((p) => {
        const inputs = hostileInputs(p, share);
        return inputs[(variant * 5) % inputs.length] as string;
      }).join('\n');
    const texts: [string, string][] = [
      ['the reported case: "-eyJ" repeated', fill('-eyJ')],
      ['anchors and near-misses of every pattern', mix(0)],
      ['more anchors and near-misses', mix(1)],
      ['values that end in punctuation', fill(`password: ${')'.repeat(500)}x\n`)],
      ['tokens cut by zero-width characters', fill(`${fake.github('ghp').replace(/(.{5})/g, '$1\u200b')} `)],
      ['placeholders that hide more keys', fill('password=${')],
      ['code values that hide more keys', fill('token: string token: ')],
      ['a YAML value of many words', fill(`token: ${'ab '.repeat(40)}\n`)],
    ];
    const diffs: [string, string][] = [
      ['a diff of anchors and near-misses', mix(2).replace(/^/gm, '+')],
      ['a diff with a secret on every line', fill(`+password=hunter2 ${fake.github('ghp')}\n`)],
    ];
    const work: [string, () => unknown][] = [
      ...texts.map(([what, text]) => [what, () => redactText(text)] as [string, () => unknown]),
      ...diffs.map(([what, diff]) => [what, () => redactDiff(diff)] as [string, () => unknown]),
    ];
    expectWithin(REDACTION_FACTOR * SECRET_PATTERNS.length, work);
  });
});
