import type { PolicyFile, PolicyFileRule, PolicyFileSettings } from './policy-schema.js';

/** Checks on a policy file that zod has accepted, which need more than one field at a time. */

type Path = readonly PropertyKey[];

/** A problem at a path of the policy file (turned into "file:line: field: message" by the parser). */
export interface Problem {
  path: Path;
  message: string;
}

export function semanticProblems(file: PolicyFile, locate: (path: Path) => { line: number }): Problem[] {
  const problems: Problem[] = [];
  const rules = file.rules ?? [];
  const defaults = file.defaults ?? {};

  problems.push(...quorumProblems(['defaults'], defaults, defaults));

  const firstByName = new Map<string, number>();
  let catchAll: number | null = null;
  rules.forEach((rule, index) => {
    const at = ['rules', index] as const;
    const first = firstByName.get(rule.name);
    if (first === undefined) {
      firstByName.set(rule.name, index);
    } else {
      const firstLine = locate(['rules', first, 'name']).line;
      problems.push({
        path: [...at, 'name'],
        message: `duplicate rule name "${rule.name}" (already used by rules[${first}] on line ${firstLine})`,
      });
    }

    if (catchAll !== null) {
      const name = (rules[catchAll] as PolicyFileRule).name;
      problems.push({
        path: at,
        message: `can never match: rules[${catchAll}] "${name}" above it has an empty match and takes every request`,
      });
    } else if (Object.keys(rule.match).length === 0) {
      catchAll = index;
    }

    const outcome = rule.outcome ?? 'review';
    if (outcome !== 'review') {
      for (const key of [
        'approvers',
        'min_approvals',
        'max_ttl_seconds',
        'deny_reason_required',
        'reminders',
        'require_verified_requester',
      ] as const) {
        if (rule[key] !== undefined) {
          problems.push({
            path: [...at, key],
            message: `has no effect when outcome is ${outcome}; remove it`,
          });
        }
      }
      // An auto-approved request is approved, so it gets an attestation; a denied one never does.
      if (outcome === 'deny' && rule.attestation_ttl_seconds !== undefined) {
        problems.push({
          path: [...at, 'attestation_ttl_seconds'],
          message: 'has no effect when outcome is deny (a refused request has no attestation); remove it',
        });
      }
    } else {
      problems.push(...quorumProblems(at, rule, defaults));
    }
  });
  return problems;
}

/** A quorum that named users alone can never reach (no groups to draw more people from). */
function quorumProblems(at: Path, own: PolicyFileSettings, defaults: PolicyFileSettings): Problem[] {
  const approvers = own.approvers ?? defaults.approvers;
  const min = own.min_approvals ?? defaults.min_approvals ?? 1;
  const users = approvers?.users ?? [];
  const groups = approvers?.groups ?? [];
  if (users.length === 0 || groups.length > 0 || new Set(users).size >= min) return [];
  const distinct = new Set(users).size;
  const key = own.min_approvals !== undefined ? 'min_approvals' : 'approvers';
  return [
    {
      path: [...at, key],
      message: `can never be met: min_approvals is ${min} but approvers lists only ${distinct} user${distinct === 1 ? '' : 's'} and no groups`,
    },
  ];
}
