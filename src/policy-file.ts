import { readFileSync } from 'node:fs';
import { type Policy, parsePolicy } from './core/policy.js';

/** Reads and validates a policy file; every problem names the file, line and field. */
export function loadPolicyFile(path: string): { policy: Policy } | { errors: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { errors: [`${path}: cannot read the policy file (${code ?? (err as Error).message})`] };
  }
  const parsed = parsePolicy(text, path);
  return parsed.ok ? { policy: parsed.policy } : { errors: parsed.errors };
}
