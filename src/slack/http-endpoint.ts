import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Logger as BoltLogger, HTTPReceiver } from '@slack/bolt';
import { readBodyOrRefuse } from '../http/read-body.js';
import { refuse, sendError } from '../http/respond.js';
import type { Route, RoutedRequest } from '../http/router.js';
import type { Logger } from '../log.js';

export const SLACK_ENDPOINT = '/slack/events';
/** Slack signs a request for 5 minutes; older or newer timestamps are refused, either way. */
export const SLACK_TOLERANCE_SECONDS = 300;
/**
 * The largest body `/slack/events` reads. The biggest request this app receives is a click on the
 * App Home tab: Slack sends the whole view (up to 100 blocks) form-encoded, about 145 KiB at worst
 * (test/unit/slack-body-limit.test.ts renders it and keeps it under two thirds of this).
 */
export const SLACK_BODY_LIMIT = 256 * 1024;

type HeaderCheck = { ok: true; timestamp: string; signature: string } | { ok: false; why: string };

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? undefined : v;
}

/**
 * What needs no body: `x-slack-signature` present as `v0=<64 hex>`, `x-slack-request-timestamp`
 * Unix seconds within ±300 s of `nowMs` (Bolt checks only the past, so a request signed for the
 * future would otherwise stay valid for as long as its signer liked).
 */
export function checkSlackHeaders(headers: IncomingHttpHeaders, nowMs: number): HeaderCheck {
  const timestamp = one(headers, 'x-slack-request-timestamp');
  const signature = one(headers, 'x-slack-signature');
  if (timestamp === undefined || signature === undefined) {
    return { ok: false, why: 'x-slack-signature or x-slack-request-timestamp missing' };
  }
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, why: 'x-slack-request-timestamp is not Unix seconds' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_TOLERANCE_SECONDS) {
    return { ok: false, why: 'x-slack-request-timestamp is more than 300 s from the server clock' };
  }
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, why: 'x-slack-signature is not v0=<hex>' };
  return { ok: true, timestamp, signature };
}

/** The headers' checks, then the v0 HMAC-SHA256 of `v0:{timestamp}:{body}`, compared in constant time. */
export function verifySlackRequest(
  signingSecret: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  nowMs: number,
): { ok: true } | { ok: false; why: string } {
  const checked = checkSlackHeaders(headers, nowMs);
  if (!checked.ok) return checked;
  const expected = createHmac('sha256', signingSecret)
    .update(`v0:${checked.timestamp}:`)
    .update(body)
    .digest();
  const offered = Buffer.from(checked.signature.slice(3), 'hex');
  if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) {
    return { ok: false, why: 'x-slack-signature does not match SLACK_SIGNING_SECRET' };
  }
  return { ok: true };
}

/**
 * Slack over HTTP: Bolt's receiver, reachable only through `route` (`POST /slack/events` on the
 * product's own server, src/http/listener.ts). The route refuses a missing or stale signature
 * before reading the body, reads at most SLACK_BODY_LIMIT, verifies the signature and the timestamp
 * (both ways) in one place, and only then hands the request, body already read, to Bolt (which
 * checks the signature once more).
 */
export function slackHttpEndpoint(opts: {
  signingSecret: string;
  logger: BoltLogger;
  log: Logger;
  now: () => number;
}): { receiver: HTTPReceiver; route: Route } {
  const { signingSecret, log, now } = opts;
  const receiver = new HTTPReceiver({
    signingSecret,
    endpoints: SLACK_ENDPOINT,
    logger: opts.logger,
    processBeforeResponse: false,
    bodyLimit: SLACK_BODY_LIMIT,
    dispatchErrorHandler: ({ response }) => sendError(response, 404, 'not_found'),
  });
  const refused = (why: string) => log.warn('slack request refused', { why });
  const handle = async (req: RoutedRequest, res: Parameters<Route['handler']>[1]) => {
    const early = checkSlackHeaders(req.headers, now());
    if (!early.ok) {
      refused(early.why);
      return refuse(req, res, 401, 'invalid_signature');
    }
    const body = await readBodyOrRefuse(req, res);
    if (body === null) return;
    const verified = verifySlackRequest(signingSecret, req.headers, body, now());
    if (!verified.ok) {
      refused(verified.why);
      return sendError(res, 401, 'invalid_signature');
    }
    // Bolt reads `rawBody` instead of the stream when it is set, and routes on the URL's path: ours
    // is already normalised, so it gets the canonical one.
    Object.assign(req, { rawBody: body });
    req.url = SLACK_ENDPOINT;
    receiver.requestListener(req, res);
  };
  const route: Route = {
    method: 'POST',
    path: SLACK_ENDPOINT,
    bodyLimit: SLACK_BODY_LIMIT,
    handler: (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log.error('slack endpoint failed', { error: err });
        refuse(req, res, 500, 'internal_error', { message: 'unexpected server error; it has been logged' });
      });
    },
  };
  return { receiver, route };
}
