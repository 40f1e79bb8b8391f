import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RequestIo, requestCommand } from '../../src/cli/request-command.js';
import { CI_SECRET } from '../support/harness.js';

// A stand-in for a server whose card cannot reach Slack (CONTRACT §8): the request object carries
// delivery_error. The CLI's --wait prints what to do and exits 4.
const error = {
  code: 'not_in_channel',
  message: 'the bot is not in #approvals: type /invite @Countersign in #approvals',
};
let server: Server;
let url: string;
let reads = 0;
let object: Record<string, unknown> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST') {
        object = {
          id: 'req_01DELIVERYERROR0000000000',
          status: 'pending',
          action: 'db.export',
          title: 'Export',
          requester: { email: 'alice@example.com' },
          client: 'ci',
          risk: 'high',
          created_at: new Date().toISOString(),
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          decided_at: null,
          decided_by: null,
          min_approvals: 1,
          votes: [],
          reason: null,
          payload_sha256: createHash('sha256').update(body).digest('hex'),
          slack_url: null,
          delivery_error: null,
        };
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(object));
        return;
      }
      reads += 1;
      // The first reads: not posted yet; then Slack's permanent error appears on the object.
      const now = reads >= 2 ? { ...object, delivery_error: error } : object;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(now));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

function io(): RequestIo & { out: () => string; errText: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += String(d)));
  stderr.on('data', (d) => (err += String(d)));
  return {
    env: { COUNTERSIGN_URL: url, COUNTERSIGN_SECRET: CI_SECRET },
    cwd: process.cwd(),
    stdin: Object.assign(new PassThrough(), { isTTY: true }),
    stdout,
    stderr,
    onSignal: () => () => {},
    linkWaitMs: 0,
    out: () => out,
    errText: () => err,
  };
}

describe('countersign request --wait and delivery_error', () => {
  it('prints the delivery error and what to do, and exits 4', async () => {
    const t = io();
    const code = await requestCommand(
      [
        '--action',
        'db.export',
        '--title',
        'Export',
        '--requester-email',
        'alice@example.com',
        '--wait',
        '--json',
      ],
      t,
    );
    expect(code).toBe(4);
    expect(t.errText()).toContain(
      `Slack cannot show req_01DELIVERYERROR0000000000: ${error.message} (not_in_channel).`,
    );
    expect(t.errText()).toContain('Delivery resumes by itself once this is fixed.');
    expect(JSON.parse(t.out())).toMatchObject({ delivery_error: error });
  });
});
