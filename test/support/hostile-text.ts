import { createHmac, randomBytes } from 'node:crypto';
import { CI_SECRET, PEOPLE, requestBody } from './harness.js';

/**
 * Hostile text for the fuzz tests (issue 13 item 13): strings that cannot be stored (lone UTF-16
 * surrogates, NUL), awkward ones (control characters, direction overrides, oversized), and every
 * place a string can sit in a create body.
 */
export const UNSTORABLE = ['\ud800', 'tail \udc00', 'a\udc00\ud800b', '\u0000', 'nul\u0000inside'];
export const AWKWARD = [
  '\u0007\u001b[31mred\u001b[0m',
  '\u202egnp.exe',
  'line\r\nbreak\ttab',
  'x'.repeat(100_000),
];

export type Body = Record<string, unknown>;
/** Where a string can sit in a create body, and how to put it there. */
export const FIELDS: [string, (v: string) => Body][] = [
  ['action', (v) => requestBody({ action: v })],
  ['title', (v) => requestBody({ title: v })],
  ['summary', (v) => requestBody({ summary: v })],
  ['resource', (v) => requestBody({ resource: v })],
  ['environment', (v) => requestBody({ environment: v })],
  ['risk', (v) => requestBody({ risk: v })],
  ['requester.email', (v) => requestBody({ requester: { email: v } })],
  ['requester.slack_user_id', (v) => requestBody({ requester: { slack_user_id: v } })],
  ['requester.name', (v) => requestBody({ requester: { slack_user_id: PEOPLE.alice.id, name: v } })],
  ['context.note', (v) => requestBody({ context: { note: v } })],
  ['context.(key)', (v) => requestBody({ context: { [v]: 'value' } })],
  ['diff', (v) => requestBody({ diff: v })],
  ['links.0.text', (v) => requestBody({ links: [{ text: v, url: 'https://example.com/x' }] })],
  ['links.0.url', (v) => requestBody({ links: [{ text: 'x', url: v }] })],
  ['approvers.users.0', (v) => requestBody({ approvers: { users: [v] } })],
  ['approvers.groups.0', (v) => requestBody({ approvers: { groups: [v] } })],
  ['callback_url', (v) => requestBody({ callback_url: v })],
];

/** Whether a 400's issues name `field` (one of FIELDS' names; a bad key is any `context.` path). */
export function namesField(body: Record<string, unknown>, field: string): boolean {
  const paths = ((body.issues ?? []) as { path: string }[]).map((i) => i.path);
  return field === 'context.(key)' ? paths.some((p) => p.startsWith('context.')) : paths.includes(field);
}

/**
 * POSTs raw bytes (which need not be UTF-8) to the API as the client `ci`, signed the contract's
 * way over those exact bytes: the body to create, the target, a line feed and the body otherwise.
 */
export async function postSignedBytes(base: string, target: string, bytes: Buffer) {
  const id = `msg_${randomBytes(8).toString('hex')}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(CI_SECRET.slice('whsec_'.length), 'base64');
  const prefix = target === '/api/v1/requests' ? '' : `${target}\n`;
  const mac = createHmac('sha256', key).update(`${id}.${ts}.${prefix}`).update(bytes).digest('base64');
  const res = await fetch(`${base}${target}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': `v1,${mac}`,
    },
    body: bytes,
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}
