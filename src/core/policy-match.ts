import { type Caller, claimOf, claimTexts } from './caller.js';
import { compileGlob } from './glob.js';
import type { Policy, PolicyMatch, PolicyRule } from './policy-types.js';
import type { CreateRequestInput } from './request-schema.js';

/** The request facts a rule looks at. */
export interface MatchSubject {
  action: string;
  resource: string | null;
  environment: string | null;
  risk: string;
  client: string;
  /** The OIDC caller whose claims `match.claims` looks at; null for a Standard Webhooks caller. */
  caller: Caller | null;
}

export type MatchField = keyof PolicyMatch;

/** The verdict of one condition of one rule, with words for `explainPolicy`. */
export interface ConditionResult {
  field: MatchField;
  ok: boolean;
  detail: string;
}

export function matchSubject(
  input: CreateRequestInput,
  client: string,
  caller: Caller | null = null,
): MatchSubject {
  return {
    action: input.action,
    resource: input.resource ?? null,
    environment: input.environment ?? null,
    risk: input.risk ?? 'medium',
    client,
    caller,
  };
}

const GLOB_FIELDS = new Set<MatchField>(['action', 'resource']);

/**
 * Checks every condition a rule names (omitted fields match anything and are not listed).
 * Action and resource match by glob (see glob.ts), the others by exact value; a list matches
 * when any entry does. A request that lacks a field never matches a rule that names it.
 */
export function checkConditions(rule: PolicyRule, subject: MatchSubject): ConditionResult[] {
  const results: ConditionResult[] = [];
  for (const field of ['action', 'resource', 'environment', 'risk', 'client'] as const) {
    const wanted = rule.match[field];
    if (wanted === null) continue;
    const value = subject[field];
    const shown = wanted.map((w) => JSON.stringify(w)).join(', ');
    if (value === null) {
      results.push({ field, ok: false, detail: `${field}: the request names none, the rule wants ${shown}` });
      continue;
    }
    const glob = GLOB_FIELDS.has(field);
    const hit = wanted.find((w) => (glob ? compileGlob(w)(value) : w === value));
    results.push(
      hit !== undefined
        ? {
            field,
            ok: true,
            detail: `${field} ${JSON.stringify(value)} ${glob ? 'matches' : 'is'} ${JSON.stringify(hit)}`,
          }
        : {
            field,
            ok: false,
            detail: `${field} ${JSON.stringify(value)} ${glob ? 'matches none of' : 'is not one of'} ${shown}`,
          },
    );
  }
  if (rule.match.claims !== null) results.push(...checkClaims(rule.match.claims, subject.caller));
  return results;
}

/**
 * Each named claim must be carried by the caller's token and match one of its globs (a list claim
 * matches when any of its items does). A request without an OIDC caller matches no claim condition.
 */
function checkClaims(wanted: Record<string, string[]>, caller: Caller | null): ConditionResult[] {
  return Object.entries(wanted).map(([name, globs]): ConditionResult => {
    const field = 'claims';
    const shown = globs.map((g) => JSON.stringify(g)).join(', ');
    if (caller === null) {
      return {
        field,
        ok: false,
        detail: `claims.${name}: the request has no OIDC caller, the rule wants ${shown}`,
      };
    }
    const value = claimOf(caller, name);
    const texts = claimTexts(value);
    if (texts.length === 0) {
      return {
        field,
        ok: false,
        detail: `claims.${name}: the caller's token has none, the rule wants ${shown}`,
      };
    }
    for (const text of texts) {
      const hit = globs.find((g) => compileGlob(g)(text));
      if (hit !== undefined)
        return {
          field,
          ok: true,
          detail: `claims.${name} ${JSON.stringify(text)} matches ${JSON.stringify(hit)}`,
        };
    }
    return { field, ok: false, detail: `claims.${name} ${JSON.stringify(value)} matches none of ${shown}` };
  });
}

export function ruleMatches(rule: PolicyRule, subject: MatchSubject): boolean {
  return checkConditions(rule, subject).every((c) => c.ok);
}

/** The first rule (in file order) that matches, or null when the defaults apply. */
export function findRule(policy: Policy, subject: MatchSubject): { rule: PolicyRule; index: number } | null {
  const index = policy.rules.findIndex((rule) => ruleMatches(rule, subject));
  return index === -1 ? null : { rule: policy.rules[index] as PolicyRule, index };
}
