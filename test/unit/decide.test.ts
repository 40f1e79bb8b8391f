import { describe, expect, it } from 'vitest';
import { type DecideRequest, decide, isRequester, normalizeEmail, precheck } from '../../src/core/decide.js';
import type { Clicker, Vote, Workspace } from '../../src/core/types.js';

const NOW = 1_700_000_000_000;
/** The installing workspace; `who()` belongs to it. */
const HOME: Workspace = { teamId: 'T1', enterpriseId: null };
const anyone = { source: 'policy' as const, users: [], groups: [] };

function req(over: Partial<DecideRequest> = {}): DecideRequest {
  return {
    status: 'pending',
    expiresAt: NOW + 60_000,
    requester: { slack_user_id: 'UALICE', email: 'alice@example.com' },
    requesterSlackId: 'UALICE',
    requesterEmail: 'alice@example.com',
    approvers: [anyone],
    minApprovals: 1,
    denyReasonRequired: true,
    ...over,
  };
}

function who(over: Partial<Clicker> = {}): Clicker {
  return {
    userId: 'UBOB',
    teamId: 'T1',
    enterpriseId: null,
    name: 'Bob',
    email: 'bob@example.com',
    isBot: false,
    isAppUser: false,
    isRestricted: false,
    isUltraRestricted: false,
    deleted: false,
    groups: [],
    ...over,
  };
}

const approve = { decision: 'approve' as const };
const deny = { decision: 'deny' as const, reason: 'too risky' };
type V = Pick<Vote, 'userId' | 'decision'>;

const refusals: [
  string,
  DecideRequest,
  V[],
  Clicker,
  { decision: 'approve' | 'deny'; reason?: string },
  string,
][] = [
  ['decided request', req({ status: 'approved' }), [], who(), approve, 'not_pending'],
  [
    'expired request (deadline passed, not yet swept)',
    req({ expiresAt: NOW }),
    [],
    who(),
    approve,
    'expired',
  ],
  ['bot', req(), [], who({ isBot: true }), approve, 'bot'],
  ['app user', req(), [], who({ isAppUser: true }), approve, 'bot'],
  ['Slackbot', req(), [], who({ userId: 'USLACKBOT' }), approve, 'bot'],
  ['multi-channel guest', req(), [], who({ isRestricted: true }), approve, 'guest'],
  ['single-channel guest', req(), [], who({ isUltraRestricted: true }), approve, 'guest'],
  ['deactivated', req(), [], who({ deleted: true }), approve, 'deactivated'],
  [
    'member of another workspace (Slack Connect)',
    req(),
    [],
    who({ teamId: 'T2' }),
    approve,
    'other_workspace',
  ],
  ['another workspace, denying', req(), [], who({ teamId: 'T2' }), deny, 'other_workspace'],
  ['a clicker whose workspace is unknown', req(), [], who({ teamId: null }), approve, 'other_workspace'],
  [
    'requester by email with a +tag (request a1+deploy@, clicker a1@)',
    req({
      requester: { email: 'a1+deploy@example.com' },
      requesterSlackId: null,
      requesterEmail: 'a1+deploy@example.com',
    }),
    [],
    who({ userId: 'UA1', email: 'a1@example.com' }),
    approve,
    'requester',
  ],
  [
    'requester by email with a +tag the other way round (request a1@, clicker A1+x@)',
    req({
      requester: { email: ' A1@Example.com ' },
      requesterSlackId: null,
      requesterEmail: ' A1@Example.com ',
    }),
    [],
    who({ userId: 'UA1', email: 'A1+x@example.COM' }),
    approve,
    'requester',
  ],
  ['requester by ID', req(), [], who({ userId: 'UALICE', email: 'other@example.com' }), approve, 'requester'],
  ['requester denying too', req(), [], who({ userId: 'UALICE' }), deny, 'requester'],
  [
    'requester by email (request gave only an email; their account clicks)',
    req({
      requester: { email: 'Alice@Example.com' },
      requesterSlackId: null,
      requesterEmail: 'alice@example.com',
    }),
    [],
    who({ userId: 'UALICE', email: 'ALICE@example.com' }),
    approve,
    'requester',
  ],
  [
    'requester by email (request gave an ID; another account with the same email clicks)',
    req({ requester: { slack_user_id: 'UALICE' }, requesterEmail: 'alice@example.com' }),
    [],
    who({ userId: 'UALICE2', email: 'alice@EXAMPLE.com' }),
    approve,
    'requester',
  ],
  [
    'an admin who is the requester (no admin exception)',
    req(),
    [],
    who({ userId: 'UALICE', name: 'Alice the admin' }),
    approve,
    'requester',
  ],
  [
    'not in the named users',
    req({ approvers: [anyone, { source: 'request', users: ['UCAROL'], groups: [] }] }),
    [],
    who(),
    approve,
    'not_approver',
  ],
  [
    'not in the named group',
    req({ approvers: [{ source: 'policy', users: [], groups: ['SDBA'] }] }),
    [],
    who({ groups: [] }),
    approve,
    'not_approver',
  ],
  [
    'in the policy group but outside the request’s narrower list',
    req({
      approvers: [
        { source: 'policy', users: [], groups: ['SDBA'] },
        { source: 'request', users: ['UCAROL'], groups: [] },
      ],
    }),
    [],
    who({ groups: ['SDBA'] }),
    approve,
    'not_approver',
  ],
  [
    'already voted',
    req({ minApprovals: 2 }),
    [{ userId: 'UBOB', decision: 'approve' }],
    who(),
    approve,
    'already_voted',
  ],
  ['deny without a reason', req(), [], who(), { decision: 'deny' }, 'reason_required'],
  ['deny with a blank reason', req(), [], who(), { decision: 'deny', reason: '   ' }, 'reason_required'],
];

describe('decide() refusals', () => {
  it.each(refusals)('%s', (_name, request, votes, clicker, choice, refusal) => {
    expect(decide(request, votes, clicker, choice, NOW, HOME)).toEqual({ ok: false, refusal });
  });
});

describe('decide() transitions', () => {
  it('one approval of one approves', () => {
    expect(decide(req(), [], who(), approve, NOW, HOME)).toEqual({
      ok: true,
      vote: { decision: 'approve', reason: null },
      status: 'approved',
      approvals: 1,
    });
  });

  it('one approval of two stays pending; the second distinct person approves', () => {
    const r = req({ minApprovals: 2 });
    expect(decide(r, [], who(), approve, NOW, HOME)).toMatchObject({
      ok: true,
      status: 'pending',
      approvals: 1,
    });
    expect(
      decide(r, [{ userId: 'UBOB', decision: 'approve' }], who({ userId: 'UCAROL' }), approve, NOW, HOME),
    ).toMatchObject({
      ok: true,
      status: 'approved',
      approvals: 2,
    });
  });

  it('one deny denies, whatever the approvals so far', () => {
    const r = req({ minApprovals: 3 });
    const votes: V[] = [
      { userId: 'UCAROL', decision: 'approve' },
      { userId: 'UDAVE', decision: 'approve' },
    ];
    expect(decide(r, votes, who(), deny, NOW, HOME)).toEqual({
      ok: true,
      vote: { decision: 'deny', reason: 'too risky' },
      status: 'denied',
      approvals: 2,
    });
  });

  it('a user in two approver groups counts once', () => {
    const r = req({
      minApprovals: 2,
      approvers: [{ source: 'policy', users: [], groups: ['SDBA', 'SSRE'] }],
    });
    const first = decide(r, [], who({ groups: ['SDBA', 'SSRE'] }), approve, NOW, HOME);
    expect(first).toMatchObject({ ok: true, status: 'pending', approvals: 1 });
    expect(
      decide(
        r,
        [{ userId: 'UBOB', decision: 'approve' }],
        who({ groups: ['SDBA', 'SSRE'] }),
        approve,
        NOW,
        HOME,
      ),
    ).toEqual({
      ok: false,
      refusal: 'already_voted',
    });
  });

  it('a member of a named group or a named user may vote', () => {
    const r = req({ approvers: [{ source: 'policy', users: ['UCAROL'], groups: ['SDBA'] }] });
    expect(decide(r, [], who({ groups: ['SDBA'] }), approve, NOW, HOME)).toMatchObject({ ok: true });
    expect(decide(r, [], who({ userId: 'UCAROL' }), approve, NOW, HOME)).toMatchObject({ ok: true });
  });

  it('a deny reason is optional where policy says so', () => {
    expect(
      decide(req({ denyReasonRequired: false }), [], who(), { decision: 'deny' }, NOW, HOME),
    ).toMatchObject({
      ok: true,
      status: 'denied',
      vote: { reason: null },
    });
  });
});

describe('the installing workspace', () => {
  it('on Enterprise Grid, any workspace of the same organisation is a member', () => {
    const grid: Workspace = { teamId: 'T1', enterpriseId: 'E1' };
    expect(decide(req(), [], who({ teamId: 'T9', enterpriseId: 'E1' }), approve, NOW, grid)).toMatchObject({
      ok: true,
    });
    expect(decide(req(), [], who({ teamId: 'T9', enterpriseId: 'E2' }), approve, NOW, grid)).toEqual({
      ok: false,
      refusal: 'other_workspace',
    });
    const orgWide: Workspace = { teamId: null, enterpriseId: 'E1' };
    expect(decide(req(), [], who({ teamId: 'T9', enterpriseId: 'E1' }), approve, NOW, orgWide)).toMatchObject(
      { ok: true },
    );
    expect(decide(req(), [], who({ teamId: null, enterpriseId: null }), approve, NOW, orgWide)).toMatchObject(
      { ok: false },
    );
  });

  it('refuses everyone while the workspace is not known', () => {
    expect(decide(req(), [], who(), approve, NOW, null)).toEqual({ ok: false, refusal: 'other_workspace' });
  });
});

describe('normalizeEmail', () => {
  it('folds case, surrounding space and a +tag, and nothing else', () => {
    expect(normalizeEmail(' A1+Deploy@Example.COM ')).toBe('a1@example.com');
    expect(normalizeEmail('first.last@example.com')).toBe('first.last@example.com');
    expect(normalizeEmail('+tag@example.com')).toBe('+tag@example.com');
    expect(normalizeEmail('a+b+c@x.org')).toBe('a@x.org');
    expect(normalizeEmail('no-at-sign')).toBe('no-at-sign');
  });
});

describe('isRequester and precheck', () => {
  it('compares IDs and emails case-insensitively, never empty emails', () => {
    expect(isRequester(req(), { userId: 'UX', email: 'ALICE@example.com' })).toBe(true);
    expect(
      isRequester(req({ requester: { slack_user_id: 'UALICE' }, requesterEmail: null }), {
        userId: 'UX',
        email: '',
      }),
    ).toBe(false);
  });

  it('refuses from stored state only', () => {
    expect(precheck(req(), [], 'UALICE', NOW)).toBe('requester');
    expect(precheck(req(), [{ userId: 'UBOB' }], 'UBOB', NOW)).toBe('already_voted');
    expect(precheck(req({ status: 'denied' }), [], 'UBOB', NOW)).toBe('not_pending');
    expect(precheck(req(), [], 'UBOB', NOW)).toBeNull();
  });
});
