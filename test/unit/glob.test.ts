import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatches, globProblem, globWork } from '../../src/core/glob.js';

/**
 * Policy globs run on every request against untrusted `action` and `resource` strings (200
 * characters at most), so a match must cost O(pattern × value) whatever the pattern: the old
 * backtracking matcher took 69 s for `*-*-*-*-*x` against a 200-character resource.
 */
const PATHOLOGICAL: [string, string][] = [
  ['*-*-*-*-*x', '-'.repeat(200)],
  ['*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(200)],
  ['*?*?*?*?*?*?*?*?*?*?*?*?!', 'x'.repeat(200)],
  [`${'*'.repeat(1)}${'a*'.repeat(60)}b`, 'a'.repeat(200)],
  ['{a,a*}{a,a*}{a,a*}{a,a*}{a,a*}{a,a*}{a,a*}x', 'a'.repeat(200)],
  ['*[ab]*[ab]*[ab]*[ab]*[ab]*[ab]*[ab]*c', 'ab'.repeat(100)],
  ['{*,*,*,*,*,*,*,*}{*,*,*,*,*,*,*,*}{*,*,*,*,*,*,*,*}z', 'y'.repeat(200)],
];

describe('glob matching', () => {
  it('matches the documented syntax', () => {
    const yes: [string, string][] = [
      ['db.*', 'db.export.full'],
      ['*', 's3://bucket/.hidden/key'],
      ['a?c', 'a/c'],
      ['?', '.'],
      ['db.{export,dump}', 'db.dump'],
      ['{db.*,iam.role.?}', 'iam.role.x'],
      ['a.{b,c{d,e}}', 'a.ce'],
      ['x{a,}', 'x'],
      ['{,a}x', 'x'],
      ['[]a]', ']'],
      ['[^]a]', 'b'],
      ['[a-]', '-'],
      ['[-a]', '-'],
      ['db.[a-c]*', 'db.b'],
      ['{a}', '{a}'],
      ['a{}', 'a{}'],
      ['a}b', 'a}b'],
      ['a,b', 'a,b'],
      ['{[,]x,y}', ',x'],
      ['*.{js,ts}', 'x.ts'],
    ];
    for (const [pattern, value] of yes)
      expect(globMatches(pattern, value), `${pattern} ~ ${value}`).toBe(true);
    const no: [string, string][] = [
      ['db.*', 'db'],
      ['a?c', 'ac'],
      ['db.{export,dump}', 'db.drop'],
      ['[^]a]', 'a'],
      ['[a-c-e]', 'd'],
      ['{a}', 'a'],
      ['*', ''],
      ['db.export', 'DB.export'],
    ];
    for (const [pattern, value] of no)
      expect(globMatches(pattern, value), `${pattern} !~ ${value}`).toBe(false);
  });

  it('explains what is not a glob', () => {
    expect(globProblem('db.(export|dump)')).toMatch(
      /parentheses are not glob syntax; write alternatives as \{a,b\}/,
    );
    expect(globProblem('db.)')).toMatch(/parentheses/);
    expect(globProblem('x]')).toMatch(/missing opening: "\["/);
    expect(globProblem('[z-a]')).toMatch(/"z-a" is reversed/);
    expect(globProblem('{a,{b,c}')).toMatch(/missing closing: "\}"/);
    expect(globProblem('{[}]')).toMatch(/missing closing: "\}"/);
  });

  it.each(PATHOLOGICAL)('bounds the work of %s on 200 characters by pattern × value', (pattern, value) => {
    expect(globProblem(pattern)).toBeNull();
    const { matched, steps, bound } = globWork(pattern, value);
    expect(matched).toBe(globMatches(pattern, value));
    expect(steps).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThanOrEqual(4 * 200 * 201);
  });

  it('answers every pathological pattern at once', { timeout: 10_000 }, () => {
    // 1000 rounds of all of them: a backtracking matcher does not finish the first.
    let hits = 0;
    for (let round = 0; round < 1000; round++) {
      for (const [pattern, value] of PATHOLOGICAL)
        if (globMatches(pattern, `${value}${round % 2 ? 'x' : ''}`)) hits++;
    }
    expect(hits).toBeGreaterThan(0);
  });

  it('agrees with a reference matcher on random patterns and values', () => {
    // The reference: the same glob as a JavaScript regex (backtracking, fine at these sizes).
    const toRegex = (glob: string): RegExp => {
      let out = '';
      for (let i = 0; i < glob.length; i++) {
        const c = glob.charAt(i);
        if (c === '*') out += '[^]*';
        else if (c === '?') out += '[^]';
        else if (c === '[') {
          const end = glob.indexOf(']', i + (glob.charAt(i + 1) === '^' ? 3 : 2));
          const body = glob.slice(i + 1, end).replace(/^\^/, '');
          out += `[${glob.charAt(i + 1) === '^' ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
          i = end;
        } else if (c === '{') out += '(?:';
        else if (c === ',') out += '|';
        else if (c === '}') out += ')';
        else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      return new RegExp(`^(?:${out})$`);
    };
    const token = fc.constantFrom(
      'a',
      'b',
      '.',
      '-',
      '*',
      '?',
      '[ab]',
      '[^a]',
      '[a-c]',
      '{a,b}',
      '{a*,b.?}',
      '{x,{a,b}}',
      '{,a}',
    );
    const pattern = fc.array(token, { minLength: 1, maxLength: 7 }).map((t) => t.join(''));
    const value = fc
      .array(fc.constantFrom('a', 'b', 'c', '.', '-', 'x'), { minLength: 1, maxLength: 9 })
      .map((t) => t.join(''));
    fc.assert(
      fc.property(pattern, value, (p, v) => {
        expect(globMatches(p, v)).toBe(toRegex(p).test(v));
      }),
      { numRuns: 3000 },
    );
  });
});
