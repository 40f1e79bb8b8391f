import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  chainHash,
  GENESIS_HASH,
  storedEventHash,
  storedPreimage,
} from '../../src/audit/chain.js';
import { csvField, parseSince, toCsvLine, toJsonLine } from '../../src/audit/export.js';
import { parseOutsideCheckpoint } from '../../src/audit/verify.js';

const jsonValue = fc
  .jsonValue({ maxDepth: 3, stringUnit: 'binary' })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('the verifier hashes exactly what the writer hashed', () => {
  it('storedPreimage equals the RFC 8785 canonical JSON of the content', () => {
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: 2 ** 40 }),
          at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
          type: fc.string({ unit: 'binary' }),
          request_id: fc.option(fc.string(), { nil: null }),
          actor: fc.string({ unit: 'binary' }),
          data: fc.dictionary(fc.string({ unit: 'binary' }), jsonValue),
          key_id: fc.option(
            fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }),
            {
              nil: null,
            },
          ),
        }),
        (c) => {
          const content = { ...c, at: new Date(c.at).toISOString() };
          const stored = { ...c, data: canonicalJson(c.data) };
          expect(storedPreimage(stored)).toBe(canonicalJson(content));
          expect(storedEventHash(GENESIS_HASH, stored)).toBe(chainHash(GENESIS_HASH, content));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('integer-like keys keep their canonical order (JS objects would reorder them)', () => {
    const data = { '10': 1, '2': 2, b: 'x' };
    const text = canonicalJson(data);
    expect(text).toBe('{"10":1,"2":2,"b":"x"}');
    expect(
      storedPreimage({ seq: 1, at: 0, type: 't', request_id: null, actor: 'a', data: text, key_id: null }),
    ).toBe(
      canonicalJson({
        seq: 1,
        at: new Date(0).toISOString(),
        type: 't',
        request_id: null,
        actor: 'a',
        data,
        key_id: null,
      }),
    );
  });

  it('an invalid time throws instead of hashing something', () => {
    expect(() =>
      storedPreimage({
        seq: 1,
        at: 8.64e15 + 1,
        type: 't',
        request_id: null,
        actor: 'a',
        data: '{}',
        key_id: null,
      }),
    ).toThrow(RangeError);
  });
});

describe('command-line values', () => {
  it('--checkpoint takes <seq>:<hash>', () => {
    const hash = 'AB'.repeat(32);
    expect(parseOutsideCheckpoint(`12:${hash}`)).toEqual({ seq: 12, hash: hash.toLowerCase() });
    expect(parseOutsideCheckpoint(`#12:${hash}`)).toEqual({ seq: 12, hash: hash.toLowerCase() });
    for (const bad of ['12', `0:${hash}`, `x:${hash}`, '12:abc', `12:${hash}0`])
      expect(parseOutsideCheckpoint(bad)).toMatch(/--checkpoint takes <seq>:<hash>/);
  });

  it('--since takes a sequence number or an ISO time', () => {
    expect(parseSince('1234')).toEqual({ seq: 1234 });
    expect(parseSince('2025-01-31')).toEqual({ at: Date.UTC(2025, 0, 31) });
    expect(parseSince('2025-01-31T09:00:00Z')).toEqual({ at: Date.UTC(2025, 0, 31, 9) });
    expect(parseSince('2025-01-31T09:00:00+02:00')).toEqual({ at: Date.UTC(2025, 0, 31, 7) });
    for (const bad of ['yesterday', '31/01/2025', '2025-13-45', '-5'])
      expect(parseSince(bad)).toMatch(/--since takes an ISO-8601 time/);
  });
});

describe('export formats', () => {
  const row = {
    seq: 7,
    at: Date.UTC(2025, 0, 1, 12),
    type: 'request.denied',
    request_id: 'req_01',
    actor: 'UDAVE',
    data: canonicalJson({ reason: 'no, "not now",\r\nsorry', '10': true }),
    prev_hash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    key_id: '0123456789abcdef',
    signature: 'c2ln',
  };

  it('a JSON line keeps the hashed data bytes and the hashed time', () => {
    const line = toJsonLine(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({
      seq: 7,
      at: '2025-01-01T12:00:00.000Z',
      request_id: 'req_01',
      key_id: row.key_id,
    });
    expect(line).toContain(`"data":${row.data}`);
  });

  it('a damaged data column still gives a valid JSON line', () => {
    expect(JSON.parse(toJsonLine({ ...row, data: '{"broken' })).data).toBe('{"broken');
  });

  it('CSV quotes what needs quoting (RFC 4180) and leaves nulls empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
    const line = toCsvLine({ ...row, request_id: null });
    expect(line.endsWith('\r\n')).toBe(true);
    expect(line.startsWith('7,2025-01-01T12:00:00.000Z,request.denied,,UDAVE,"{""10"":true,')).toBe(true);
  });
});
