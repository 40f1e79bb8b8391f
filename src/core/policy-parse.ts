import { createHash } from 'node:crypto';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Problem, semanticProblems } from './policy-checks.js';
import {
  knownKeysAt,
  MATCH_KEYS,
  type PolicyFile,
  type PolicyFileSettings,
  policyFileSchema,
} from './policy-schema.js';
import {
  DEFAULT_ATTESTATION_TTL_SECONDS,
  DEFAULT_REMINDERS,
  MAX_TTL_SECONDS,
  type ParsePolicyResult,
  type Policy,
  type PolicyApprovers,
  type PolicyDefaults,
  type PolicyRule,
  type RequesterBinding,
} from './policy-types.js';

type Path = readonly PropertyKey[];

/**
 * Parses and validates a policy file's text. Pure: the caller reads the file.
 * Every error reads `<fileName>:<line>: <field>: <message>`, e.g.
 * `policy.yml:12: rules[1].min_approvals: must be an integer between 1 and 10`.
 */
export function parsePolicy(text: string, fileName: string): ParsePolicyResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;

  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => `${fileName}:${lineAt(e.pos[0])}: YAML syntax: ${e.message}`),
    };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [`${fileName}:1: YAML syntax: ${message}`] };
  }
  if (data === null || data === undefined) {
    return { ok: false, errors: [`${fileName}:1: (file): is empty; a policy needs at least "version: 1"`] };
  }

  const locate = (problem: Problem) => {
    const { line, field } = locatePath(doc, lineAt, problem.path);
    return { line, text: `${fileName}:${line}: ${field}: ${problem.message}` };
  };
  const report = (problems: Problem[]): ParsePolicyResult => {
    const located = problems.map(locate);
    // Stable sort: file order, and zod's order within a line.
    located.sort((a, b) => a.line - b.line);
    return { ok: false, errors: located.map((p) => p.text) };
  };

  const parsed = policyFileSchema.safeParse(withoutExtensions(data));
  if (!parsed.success) return report(zodProblems(parsed.error, data));

  const semantic = semanticProblems(parsed.data, (path) => locatePath(doc, lineAt, path));
  if (semantic.length > 0) return report(semantic);

  return {
    ok: true,
    policy: buildPolicy(parsed.data, text, fileName, (path) => locatePath(doc, lineAt, path).line),
  };
}

/** Top-level `x-...` keys are free for YAML anchors shared by rules (as in docker compose files). */
function withoutExtensions(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([key]) => !key.startsWith('x-')));
}

// ---------------------------------------------------------------------------------------------
// zod issues → problems

function zodProblems(error: z.ZodError, data: unknown): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(path, key) }));
    }
    if (path.length > 0 && !hasPath(data, path)) {
      const last = path[path.length - 1];
      const hint = last === 'match' ? ' (use "match: {}" to match every request)' : '';
      return [{ path, message: `is required${hint}` }];
    }
    return [{ path, message: issue.message }];
  });
}

function unknownKeyMessage(path: Path, key: string): string {
  const known = knownKeysAt(path);
  const isRule = path.length === 2 && path[0] === 'rules';
  if (isRule && (MATCH_KEYS as readonly string[]).includes(key)) {
    return `is not a known field of a rule; conditions go under "match:"`;
  }
  const close = known.find((k) => editDistance(k, key.toLowerCase()) <= 2);
  if (close !== undefined) return `is not a known field; did you mean "${close}"?`;
  return known.length > 0
    ? `is not a known field (known fields: ${known.join(', ')})`
    : 'is not a known field';
}

/** False only when an object on the way lacks the key (a scalar read as a one-item list counts as present). */
function hasPath(data: unknown, path: Path): boolean {
  let node: unknown = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return true;
    if (!Object.hasOwn(node, segment)) return false;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return true;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

// ---------------------------------------------------------------------------------------------
// Paths → lines and field names

/**
 * Follows `path` through the YAML document. The line is that of the deepest key (or list item)
 * that exists: a bad value is reported on its key's line, a missing key on its parent's line.
 * List indices that point into a scalar (`environment: prod` read as `[prod]`) are left out of
 * the field name.
 */
function locatePath(
  doc: Document,
  lineAt: (offset: number) => number,
  path: Path,
): { line: number; field: string } {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range ? lineAt(node.range[0]) : 1;
  let field = '';
  let following = true;
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (following && isSeq(node)) {
        const item: unknown = node.items[segment];
        if (isNode(item) && item.range) line = lineAt(item.range[0]);
        node = item;
        field += `[${segment}]`;
      } else if (!following || !isScalar(node)) {
        field += `[${segment}]`;
        following = false;
      }
      continue;
    }
    const key = String(segment);
    field += field === '' ? key : `.${key}`;
    if (following && isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
      if (pair) {
        if (isNode(pair.key) && pair.key.range) line = lineAt(pair.key.range[0]);
        node = pair.value;
        continue;
      }
    }
    following = false;
  }
  return { line, field: field === '' ? '(file)' : field };
}

function isNode(value: unknown): value is Node {
  return isMap(value) || isSeq(value) || isScalar(value);
}

// ---------------------------------------------------------------------------------------------
// Validated file → Policy

function buildPolicy(
  file: PolicyFile,
  text: string,
  fileName: string,
  lineOf: (path: Path) => number,
): Policy {
  const d = file.defaults ?? {};
  const defaults: PolicyDefaults = {
    channel: d.channel ?? null,
    approvers: approversOf(d.approvers) ?? { users: [], groups: [] },
    minApprovals: d.min_approvals ?? 1,
    maxTtlSeconds: d.max_ttl_seconds ?? MAX_TTL_SECONDS,
    denyReasonRequired: d.deny_reason_required ?? true,
    reminders: d.reminders ? [...d.reminders] : [...DEFAULT_REMINDERS],
    attestationTtlSeconds: d.attestation_ttl_seconds ?? DEFAULT_ATTESTATION_TTL_SECONDS,
    requireVerifiedRequester: d.require_verified_requester ?? false,
  };
  const rules = (file.rules ?? []).map(
    (rule, index): PolicyRule => ({
      name: rule.name,
      description: rule.description ?? null,
      line: lineOf(['rules', index]),
      match: {
        action: rule.match.action ?? null,
        resource: rule.match.resource ?? null,
        environment: rule.match.environment ?? null,
        risk: rule.match.risk ? [...new Set(rule.match.risk)] : null,
        client: rule.match.client ?? null,
        claims: rule.match.claims ? { ...rule.match.claims } : null,
      },
      outcome: rule.outcome ?? 'review',
      channel: rule.channel ?? null,
      approvers: approversOf(rule.approvers),
      minApprovals: rule.min_approvals ?? null,
      maxTtlSeconds: rule.max_ttl_seconds ?? null,
      denyReasonRequired: rule.deny_reason_required ?? null,
      reminders: rule.reminders ? [...rule.reminders] : null,
      attestationTtlSeconds: rule.attestation_ttl_seconds ?? null,
      requireVerifiedRequester: rule.require_verified_requester ?? null,
    }),
  );
  const requesters = (file.requesters ?? []).map(
    (b, index): RequesterBinding => ({
      client: b.client,
      claim: b.claim,
      users: { ...(b.users ?? {}) },
      email: b.email ?? null,
      required: b.required ?? false,
      line: lineOf(['requesters', index]),
    }),
  );
  const hash = createHash('sha256').update(text, 'utf8').digest('hex');
  return { hash, fileName, defaults, rules, requesters };
}

function approversOf(a: PolicyFileSettings['approvers']): PolicyApprovers | null {
  if (a === undefined) return null;
  return { users: [...new Set(a.users ?? [])], groups: [...new Set(a.groups ?? [])] };
}
