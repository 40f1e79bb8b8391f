import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/audit/keys.js';
import { type RequestIo, requestCommand } from '../../src/cli/request-command.js';
import { type VerifyIo, verifyApprovalCommand } from '../../src/cli/verify-approval-command.js';
import { signAttestation } from '../../src/identity/attestation-sign.js';
import { jwksDocument } from '../../src/identity/jwks-document.js';
import { spawnCaptured } from '../support/child.js';
import { type Harness, startHarness } from '../support/harness.js';
import { type LocalIssuer, startOidcIssuer } from '../support/oidc-issuer.js';

// The CLI's OIDC and attestation parts: `request --oidc-token / GitHub tokens --wait --consume`
// against the real server (ID tokens from a local issuer; policy approves deploys at once), and
// `verify-approval` in-process and as the built binary.

const BODY = JSON.stringify({
  action: 'deploy.production',
  title: 'Deploy web v2',
  requester: { email: 'octocat@example.com' },
  environment: 'production',
});

const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
const AUDIENCE = 'cs-aud';
let issuer: LocalIssuer;
let h: Harness;
let dir: string;
beforeAll(async () => {
  issuer = await startOidcIssuer({ audience: AUDIENCE });
  await issuer.addKey('RS256');
  dir = mkdtempSync(join(tmpdir(), 'countersign-identity-'));
  writeFileSync(join(dir, 'body.json'), BODY);
  writeFileSync(
    join(dir, 'server-policy.yml'),
    'version: 1\nrules:\n  - name: deploys\n    match: { action: "deploy.*" }\n    outcome: auto_approve\n',
  );
  h = await startHarness({
    env: {
      COUNTERSIGN_OIDC: `github=${issuer.url}`,
      COUNTERSIGN_OIDC_AUDIENCE: AUDIENCE,
      COUNTERSIGN_POLICY: join(dir, 'server-policy.yml'),
    },
  });
});
afterAll(async () => {
  await h.stop();
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The audit events of one type for one request. */
const events = (type: string, id: string) =>
  h.server.database.sqlite
    .prepare('SELECT count(*) FROM audit_events WHERE type = ? AND request_id = ?')
    .pluck()
    .get(type, id) as number;

function streams() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { stdout, stderr, out: () => out, err: () => err };
}

function requestIo(env: Record<string, string>) {
  const s = streams();
  const io: RequestIo = {
    env: { COUNTERSIGN_URL: h.server.url, ...env },
    cwd: dir,
    stdin: Object.assign(new PassThrough(), { isTTY: false }),
    stdout: s.stdout,
    stderr: s.stderr,
    onSignal: () => () => {},
    linkWaitMs: 0,
  };
  return { io, ...s };
}

describe('countersign request with a CI identity token', () => {
  it('--oidc-token @file sends the token as a bearer, waits, consumes once and prints the consumed object', async () => {
    const fileToken = await issuer.token();
    writeFileSync(join(dir, 'id-token'), `${fileToken}\n`);
    const run = requestIo({});
    const code = await requestCommand(
      ['--file', 'body.json', '--oidc-token', '@id-token', '--wait', '--consume', '--json'],
      run.io,
    );
    expect(code).toBe(0);
    const outcome = JSON.parse(run.out()) as {
      id: string;
      status: string;
      consumed_at: string | null;
      attestation: string;
    };
    expect(outcome).toMatchObject({ status: 'approved', consumed_at: expect.any(String) });
    expect(run.err()).toContain('Consumed: this approval is now used');
    // The server took the token: the request carries the caller it proves.
    expect(outcome).toMatchObject({ client: 'github', caller: { issuer: issuer.url } });
    expect(events('request.consumed', outcome.id)).toBe(1);
    writeFileSync(join(dir, 'outcome.json'), run.out());

    // The same approval cannot be consumed twice: a second run on it exits 4 and says why.
    const envToken = await issuer.token();
    const again = requestIo({ COUNTERSIGN_OIDC_TOKEN: envToken });
    const idem = ['--file', 'body.json', '--wait', '--consume', '--idempotency-key', 'x'];
    const first = await requestCommand(idem, again.io);
    expect(first).toBe(0);
    const id = /^(req_\w+)$/m.exec(again.out())?.[1] as string;
    const { Countersign } = await import('../../src/client/index.js');
    await expect(
      new Countersign({ url: h.server.url, oidcToken: envToken, env: {} }).consume(id),
    ).rejects.toMatchObject({
      code: 'already_consumed',
    });
  });

  it('fetches GitHub Actions ID tokens by itself when no secret is set', async () => {
    const run = requestIo({ ...issuer.githubEnv, COUNTERSIGN_OIDC_AUDIENCE: AUDIENCE });
    const before = issuer.githubTokens.length;
    const code = await requestCommand(
      ['--action', 'deploy.web', '--title', 'T', '--requester-email', 'a@example.com', '--json'],
      run.io,
    );
    expect(code).toBe(0);
    expect(issuer.githubTokens.slice(before).map((t) => t.audience)).toEqual([AUDIENCE]);
    // The server accepted GitHub's token as the caller.
    expect(JSON.parse(run.out())).toMatchObject({
      client: 'github',
      caller: { claims: { actor: 'octocat' } },
    });
  });

  it('refuses --consume without --wait, and names every way to authenticate when none is given', async () => {
    const noWait = requestIo({ COUNTERSIGN_OIDC_TOKEN: 't' });
    expect(
      await requestCommand(
        ['--action', 'a', '--title', 't', '--requester-email', 'a@x.io', '--consume'],
        noWait.io,
      ),
    ).toBe(4);
    expect(noWait.err()).toContain('--consume needs --wait');
    const missing = requestIo({});
    expect(
      await requestCommand(
        ['--action', 'a', '--title', 't', '--requester-email', 'a@x.io', '--oidc-token', '@nope'],
        missing.io,
      ),
    ).toBe(4);
    expect(missing.err()).toContain('--oidc-token: cannot read nope (ENOENT)');
    const none = requestIo({});
    expect(
      await requestCommand(['--action', 'a', '--title', 't', '--requester-email', 'a@x.io'], none.io),
    ).toBe(4);
    expect(none.err()).toContain('COUNTERSIGN_SECRET');
    expect(none.err()).toContain('--oidc-token');
    expect(none.err()).toContain('id-token: write');
  });
});

function verifyIo(env: Record<string, string> = { COUNTERSIGN_URL: '' }, stdin = '', now?: number) {
  const s = streams();
  const input = new PassThrough();
  input.end(stdin);
  const io: VerifyIo = {
    env,
    cwd: dir,
    stdin: input,
    stdout: s.stdout,
    stderr: s.stderr,
    ...(now ? { now: () => now } : {}),
  };
  return { io, ...s };
}

describe('countersign verify-approval', () => {
  it('exits 0 when signature, expiry, payload and action hold (token from a request object file)', async () => {
    const run = verifyIo({ COUNTERSIGN_URL: h.server.url });
    const code = await verifyApprovalCommand(
      ['@outcome.json', '--payload', 'body.json', '--action', 'deploy.production'],
      run.io,
    );
    expect(run.err()).toMatch(
      /^verify-approval: OK \(signature, expiry, payload, action\): req_\w+ approves deploy\.production/,
    );
    expect(code).toBe(0);
  });

  it('exits 1 naming each check that fails', async () => {
    writeFileSync(join(dir, 'other.json'), `${BODY} `);
    const run = verifyIo({ COUNTERSIGN_URL: h.server.url });
    const code = await verifyApprovalCommand(
      ['@outcome.json', '--payload', 'other.json', '--action', 'db.export'],
      run.io,
    );
    expect(code).toBe(1);
    expect(run.err()).toContain('verify-approval: FAILED payload: ');
    expect(run.err()).toContain(
      'verify-approval: FAILED action: the approval is for action "deploy.production", not "db.export"',
    );
  });

  it('exits 1 for an expired or tampered token, and reads the token from stdin', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = { keyId: keyIdOf(publicKey), privateKey };
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(
      join(dir, 'jwks.json'),
      JSON.stringify(await jwksDocument([{ keyId: key.keyId, publicKeyPem: pem, retiredAt: null }], 0)),
    );
    const decidedAt = Date.UTC(2026, 0, 1);
    const token = await signAttestation(key, {
      requestId: 'req_x',
      action: 'deploy.web',
      resource: null,
      environment: null,
      client: 'ci',
      payloadSha256: createHash('sha256').update(BODY).digest('hex'),
      approvers: ['U1'],
      decidedAt,
      ttlSeconds: 60,
      issuer: null,
    });
    const fresh = verifyIo({}, token, decidedAt + 1000);
    expect(await verifyApprovalCommand(['-', '--jwks', 'jwks.json'], fresh.io)).toBe(0);
    expect(fresh.err()).toContain('note: the payload was not checked');
    const late = verifyIo({}, token, decidedAt + 61_000);
    expect(await verifyApprovalCommand(['-', '--jwks', 'jwks.json', '--json'], late.io)).toBe(1);
    expect(late.err()).toContain('FAILED expiry: the approval expired at 2026-01-01T00:01:00.000Z');
    expect(JSON.parse(late.out())).toMatchObject({ ok: false, failures: [{ check: 'expiry' }] });
    const [h, p, sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), approvers: ['U2'] })).toString('base64url')}.${sig}`;
    const tampered = verifyIo({}, '', decidedAt + 1000);
    expect(await verifyApprovalCommand([forged, '--jwks', 'jwks.json'], tampered.io)).toBe(1);
    expect(tampered.err()).toContain('FAILED signature');
  });

  it('exits 4 on usage errors and when the keys cannot be read', async () => {
    const cases: [string[], RegExp][] = [
      [[], /give the attestation/],
      [['a.b.c', 'extra'], /unexpected argument "extra"/],
      [['a.b.c', '--bogus'], /Unknown option '--bogus'/],
      [['a.b.c'], /give --jwks <url\|file>, or set COUNTERSIGN_URL/],
      [['@missing.txt', '--jwks', 'jwks.json'], /cannot read the token file missing.txt: ENOENT/],
      [['a.b.c', '--jwks', 'body.json'], /is not a JWKS/],
      [
        ['a.b.c', '--jwks', `${h.server.url}/missing.json`],
        /cannot read the approval keys at .*missing\.json: HTTP 40\d/,
      ],
      [['-', '--payload', '-', '--jwks', 'jwks.json'], /stdin can carry the token or the payload, not both/],
    ];
    for (const [args, message] of cases) {
      const run = verifyIo();
      expect(await verifyApprovalCommand(args, run.io), args.join(' ')).toBe(4);
      expect(run.err()).toMatch(message);
    }
  });

  it('the built binary exits 0, 1 and 4 (npm test builds first)', async () => {
    const env = { PATH: process.env.PATH ?? '', COUNTERSIGN_URL: h.server.url };
    const run = (args: string[]) =>
      spawnCaptured(process.execPath, [CLI, 'verify-approval', ...args], { cwd: dir, env }).done;
    expect((await run(['@outcome.json', '--payload', 'body.json'])).code).toBe(0);
    expect((await run(['@outcome.json', '--action', 'db.export'])).code).toBe(1);
    expect((await run([])).code).toBe(4);
    const help = await spawnCaptured(process.execPath, [CLI, 'help'], { cwd: dir, env }).done;
    expect(help.stdout).toContain('verify-approval  check an approval');
  });
});

describe('countersign policy explain --claims', () => {
  it("explains an OIDC caller's request from a claims file or from an ID token", async () => {
    writeFileSync(
      join(dir, 'policy.yml'),
      [
        'version: 1',
        'requesters:',
        '  - client: github',
        '    claim: actor',
        '    email: "{value}@example.com"',
        'rules:',
        '  - name: prod-from-main',
        '    match: { environment: production, claims: { repository: "acme/*", ref: refs/heads/main } }',
        '  - name: prod-otherwise',
        '    match: { environment: production }',
        '    outcome: deny',
        '',
      ].join('\n'),
    );
    const claims = {
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/web:ref:refs/heads/main',
      repository: 'acme/web',
      ref: 'refs/heads/main',
      actor: 'octocat',
    };
    writeFileSync(join(dir, 'claims.json'), JSON.stringify(claims));
    const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, ref: 'refs/heads/dev' })).toString('base64url')}.sig`;
    writeFileSync(join(dir, 'token.jwt'), token);
    const env = { PATH: process.env.PATH ?? '' };
    const explain = (claimsFile: string) =>
      spawnCaptured(
        process.execPath,
        [
          CLI,
          'policy',
          'explain',
          'body.json',
          '--policy',
          'policy.yml',
          '--client',
          'github',
          '--claims',
          claimsFile,
        ],
        { cwd: dir, env },
      ).done;
    const main = await explain('claims.json');
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('"prod-from-main" (line 7): MATCHES');
    expect(main.stdout).toContain(
      'Requester: octocat@example.com, bound by requesters (line 3) from actor "octocat"',
    );
    expect(main.stdout).toContain('Attestation: valid 900 s after the approval');
    const dev = await explain('token.jwt');
    expect(dev.stdout).toContain('claims.ref "refs/heads/dev" matches none of "refs/heads/main"');
    expect(dev.stdout).toContain('Outcome: deny');
    const bad = await explain('policy.yml');
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('must hold a JSON object of claims, or an ID token');
  });
});
