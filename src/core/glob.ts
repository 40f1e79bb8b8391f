/**
 * Glob matching for policy rules (action and resource patterns).
 *
 * Actions and resources are flat strings, not file paths, so no character is a separator:
 * `*` matches any run of characters (including none, `.`, `/` and `:`), `?` matches exactly one
 * character, `[abc]` / `[a-z]` one character of a class (`[^...]` negates it; a `]` first in the
 * class and a `-` first or last are literal) and `{a,b}` either alternative (alternatives may hold
 * globs and nest: `{db.*,iam.role.?}`; braces without a comma are literal text). `db.*` therefore
 * matches both `db.export` and `db.export.full`, and `arn:aws:s3:::prod-*` matches
 * `arn:aws:s3:::prod-logs/2024/01`. Matching is case-sensitive and covers the whole string. There
 * is no negation and no escaping: a leading `!`, a backslash and parentheses are refused by
 * `globProblem`.
 *
 * The matcher compiles a glob to a small automaton (one state per pattern character) and runs it
 * over the value with every live state in step (Thompson's construction), so a match costs at most
 * O(pattern length × value length) whatever the pattern: `*-*-*-*-*x` against 200 characters is
 * a few thousand steps, where a backtracking matcher takes minutes.
 */

type Instruction =
  | { op: 'char'; ch: string }
  | { op: 'any' }
  | { op: 'class'; negated: boolean; ranges: [number, number][] }
  | { op: 'split'; to: [number, number] }
  | { op: 'jump'; to: number }
  | { op: 'match' };

type Node =
  | { kind: 'char'; ch: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; ranges: [number, number][] }
  | { kind: 'alt'; branches: Node[][] };

class GlobError extends Error {}

/** Parses `pattern` from `at` until the end or, inside braces, a top-level `,` or `}`. */
function parseSeq(pattern: string, at: number, inBraces: boolean): { nodes: Node[]; at: number } {
  const nodes: Node[] = [];
  let i = at;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (inBraces && (c === ',' || c === '}')) break;
    if (c === '*') {
      if (nodes[nodes.length - 1]?.kind !== 'star') nodes.push({ kind: 'star' });
      i++;
    } else if (c === '?') {
      nodes.push({ kind: 'any' });
      i++;
    } else if (c === '[') {
      const parsed = parseClass(pattern, i);
      nodes.push(parsed.node);
      i = parsed.at;
    } else if (c === '{') {
      const parsed = parseBraces(pattern, i);
      nodes.push(...parsed.nodes);
      i = parsed.at;
    } else if (c === ']') {
      throw new GlobError('missing opening: "["');
    } else if (c === '(' || c === ')') {
      throw new GlobError('parentheses are not glob syntax; write alternatives as {a,b}');
    } else {
      nodes.push({ kind: 'char', ch: c });
      i++;
    }
  }
  return { nodes, at: i };
}

/** `[...]` starting at `at` (the `[`). */
function parseClass(pattern: string, at: number): { node: Node; at: number } {
  let i = at + 1;
  const negated = pattern.charAt(i) === '^';
  if (negated) i++;
  const ranges: [number, number][] = [];
  const first = i;
  while (i < pattern.length && (pattern.charAt(i) !== ']' || i === first)) {
    const lo = pattern.charCodeAt(i);
    if (pattern.charAt(i + 1) === '-' && i + 2 < pattern.length && pattern.charAt(i + 2) !== ']') {
      const hi = pattern.charCodeAt(i + 2);
      if (hi < lo) {
        throw new GlobError(`the range "${pattern.slice(i, i + 3)}" is reversed; write it low to high`);
      }
      ranges.push([lo, hi]);
      i += 3;
    } else {
      ranges.push([lo, lo]);
      i++;
    }
  }
  if (i >= pattern.length) {
    throw new GlobError('missing closing: "]"');
  }
  return { node: { kind: 'class', negated, ranges }, at: i + 1 };
}

/** `{a,b}` starting at `at` (the `{`); without a top-level comma the braces are literal text. */
function parseBraces(pattern: string, at: number): { nodes: Node[]; at: number } {
  const branches: Node[][] = [];
  let i = at + 1;
  for (;;) {
    const parsed = parseSeq(pattern, i, true);
    branches.push(parsed.nodes);
    i = parsed.at;
    if (i >= pattern.length) {
      throw new GlobError('missing closing: "}"');
    }
    if (pattern.charAt(i) === '}') break;
    i++; // the comma
  }
  if (branches.length === 1) {
    return {
      nodes: [{ kind: 'char', ch: '{' }, ...(branches[0] as Node[]), { kind: 'char', ch: '}' }],
      at: i + 1,
    };
  }
  return { nodes: [{ kind: 'alt', branches }], at: i + 1 };
}

function emit(nodes: Node[], prog: Instruction[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'char':
        prog.push({ op: 'char', ch: node.ch });
        break;
      case 'any':
        prog.push({ op: 'any' });
        break;
      case 'class':
        prog.push({ op: 'class', negated: node.negated, ranges: node.ranges });
        break;
      case 'star': {
        // loop: split(body, out); body: any; jump loop; out:
        const loop = prog.length;
        const split: Instruction = { op: 'split', to: [loop + 1, -1] };
        prog.push(split, { op: 'any' }, { op: 'jump', to: loop });
        split.to[1] = prog.length;
        break;
      }
      case 'alt': {
        const exits: Instruction[] = [];
        node.branches.forEach((branch, k) => {
          const last = k === node.branches.length - 1;
          const split: Instruction | null = last ? null : { op: 'split', to: [prog.length + 1, -1] };
          if (split) prog.push(split);
          emit(branch, prog);
          if (!last) {
            const exit: Instruction = { op: 'jump', to: -1 };
            prog.push(exit);
            exits.push(exit);
            (split as { to: [number, number] }).to[1] = prog.length;
          }
        });
        for (const exit of exits) (exit as { to: number }).to = prog.length;
        break;
      }
    }
  }
}

function compile(pattern: string): Instruction[] {
  const { nodes } = parseSeq(pattern, 0, false);
  const prog: Instruction[] = [];
  emit(nodes, prog);
  prog.push({ op: 'match' });
  return prog;
}

function classHas(ins: { negated: boolean; ranges: [number, number][] }, code: number): boolean {
  const inside = ins.ranges.some(([lo, hi]) => code >= lo && code <= hi);
  return inside !== ins.negated;
}

/**
 * Runs the automaton over `value`: every live state advances together, each at most once per
 * character. `work.steps` counts the states visited (at most program length × (value length + 1)).
 */
function run(prog: Instruction[], value: string, work?: { steps: number }): boolean {
  const seen = new Int32Array(prog.length).fill(-1);
  let current: number[] = [];
  let next: number[] = [];
  const stack: number[] = [];
  // Adds `pc` and whatever it reaches without reading a character, marked with `step`.
  const add = (list: number[], pc: number, step: number) => {
    stack.push(pc);
    while (stack.length > 0) {
      const p = stack.pop() as number;
      if (seen[p] === step) continue;
      seen[p] = step;
      if (work) work.steps++;
      const ins = prog[p] as Instruction;
      if (ins.op === 'jump') stack.push(ins.to);
      else if (ins.op === 'split') stack.push(ins.to[1], ins.to[0]);
      else list.push(p);
    }
  };
  add(current, 0, 0);
  for (let i = 0; i < value.length; i++) {
    if (current.length === 0) return false;
    const ch = value.charAt(i);
    const code = value.charCodeAt(i);
    next.length = 0;
    for (const pc of current) {
      const ins = prog[pc] as Instruction;
      const ok =
        ins.op === 'any' ||
        (ins.op === 'char' && ins.ch === ch) ||
        (ins.op === 'class' && classHas(ins, code));
      if (ok) add(next, pc + 1, i + 1);
    }
    [current, next] = [next, current];
  }
  return current.some((pc) => prog[pc]?.op === 'match');
}

export type GlobMatcher = (value: string) => boolean;

const cache = new Map<string, GlobMatcher>();
const CACHE_LIMIT = 1000;

/** Why `pattern` is not a usable glob, or null when it is. */
export function globProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > 200) return 'must be at most 200 characters';
  if (pattern.startsWith('!'))
    return 'negation ("!...") is not supported; put a more specific rule first instead';
  if (pattern.includes('\\')) return 'backslashes are not supported in globs';
  if (pattern.includes('[!')) return 'write a negated class as [^...], not [!...]';
  try {
    compile(pattern);
  } catch (error) {
    if (error instanceof GlobError) return `is not a valid glob (${error.message})`;
    throw error;
  }
  return null;
}

/** A matcher for a valid glob (see `globProblem`); compiled matchers are cached. */
export function compileGlob(pattern: string): GlobMatcher {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    const prog = compile(pattern);
    const literal = prog.every((ins) => ins.op === 'char' || ins.op === 'match');
    matcher = literal ? (value) => value === pattern : (value) => value.length > 0 && run(prog, value);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, matcher);
  }
  return matcher;
}

/**
 * How many automaton states matching `value` against `pattern` visits, and the result: the
 * measure of work the policy tests hold to O(pattern × value).
 */
export function globWork(pattern: string, value: string): { matched: boolean; steps: number; bound: number } {
  const prog = compile(pattern);
  const work = { steps: 0 };
  const matched = value.length > 0 && run(prog, value, work);
  return { matched, steps: work.steps, bound: prog.length * (value.length + 1) };
}

/** True when `value` matches the glob `pattern`. */
export function globMatches(pattern: string, value: string): boolean {
  return compileGlob(pattern)(value);
}
