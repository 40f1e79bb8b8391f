import { afterEach, describe, expect, it } from 'vitest';
import { type Policy, parsePolicy } from '../../src/core/policy.js';
import { parseCreateRequest } from '../../src/core/request-schema.js';
import { input, type ServiceFixture, serviceFixture } from '../support/service.js';

/**
 * A request must not slip past a deny rule by a spelling the card does not show (an invisible
 * character, a trailing space) or by a secret-looking value that redaction masks before policy
 * sees it.
 */
function policy(...lines: string[]): Policy {
  const result = parsePolicy(`version: 1\n${lines.join('\n')}\n`, 'policy.yml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}

const body = (over: Record<string, unknown>) => ({
  action: 'db.drop',
  title: 'Drop the table',
  requester: { slack_user_id: 'UALICE' },
  ...over,
});

describe('values policy matches exactly', () => {
  it('refuses invisible characters and edge spaces in environment and resource, naming the field', () => {
    for (const field of ['environment', 'resource'])
      for (const value of ['prod\u200b', '\u2060prod', 'prod\u00ad', 'prod ', ' prod', 'pro\u202ed']) {
        const parsed = parseCreateRequest(body({ [field]: value }));
        expect(parsed.ok, `${field} ${JSON.stringify(value)}`).toBe(false);
        if (!parsed.ok)
          expect(parsed.issues[0]).toMatchObject({
            path: field,
            message: expect.stringMatching(/invisible/),
          });
      }
    expect(parseCreateRequest(body({ environment: 'prod', resource: 'postgres://prod/main table' })).ok).toBe(
      true,
    );
  });
});

describe('policy sees what was sent, not its redacted copy', () => {
  let f: ServiceFixture | null = null;
  afterEach(async () => {
    await f?.close();
    f = null;
  });

  it('denies a resource whose secret-looking text redaction would mask', async () => {
    f = await serviceFixture({
      policy: policy(
        'defaults:',
        '  channel: C0DEFAULT1',
        'rules:',
        '  - name: no-prod-drop',
        '    match: { action: db.drop, resource: "*prod*" }',
        '    outcome: deny',
      ),
    });
    const result = await f.approvals.submit(
      'ci',
      'msg_dodge_1',
      'sha_dodge_1',
      input({ action: 'db.drop', resource: 'token=prod-primary-0123456789' }),
      Date.now(),
    );
    expect(result).toEqual({ kind: 'policy_denied', rule: 'no-prod-drop' });
  });
});
