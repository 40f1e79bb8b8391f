import { lookup as dnsLookup } from 'node:dns/promises';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { blockedAddress, ipOf } from './blocked-addresses.js';
import { REFUSED_KINDS } from './callback-url.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (the system resolver by default; tests inject their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export interface PinnedPostOptions {
  headers: Record<string, string>;
  body: string;
  /** The whole attempt: resolving, connecting, sending and the status line of the answer. */
  timeoutMs: number;
  /** Resolving and the TCP connection. */
  connectTimeoutMs: number;
  /** An allow-list entry names this host: its addresses are not checked. */
  hostNamed: boolean;
  resolve?: Resolver;
}

export type PinnedPostResult =
  | { ok: true; status: number }
  /**
   * `permanent`: the address is refused; trying again cannot help. `status`: the receiver answered
   * (with a status that is not 2xx); without it the receiver could not be reached or never answered.
   */
  | { ok: false; error: string; permanent: boolean; status?: number };

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * POSTs `body` to `url`, connecting to exactly the address that was checked. The host is resolved
 * once; unless an allow-list entry names it, every address it resolves to must be public (else a
 * permanent failure). The request then connects through a `lookup` that returns that same address,
 * so no second resolution can point it elsewhere (DNS rebinding); the Host header and the TLS server
 * name stay the host of the URL. Redirects are not followed: a 3xx is a failure.
 */
export async function postPinned(url: URL, opts: PinnedPostOptions): Promise<PinnedPostResult> {
  const started = Date.now();
  const literal = ipOf(url.hostname);
  let target: ResolvedAddress;
  try {
    const addresses: ResolvedAddress[] =
      literal !== null
        ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }]
        : await withTimeout(
            (opts.resolve ?? systemResolver)(url.hostname),
            opts.connectTimeoutMs,
            `${url.hostname} did not resolve within ${opts.connectTimeoutMs} ms`,
          );
    if (addresses.length === 0)
      return { ok: false, error: `${url.hostname} has no address`, permanent: false };
    if (!opts.hostNamed) {
      for (const a of addresses) {
        const kind = blockedAddress(a.address);
        if (kind !== null) {
          return {
            ok: false,
            error: `refused: ${url.hostname} resolves to ${a.address} (${kind}); ${REFUSED_KINDS}`,
            permanent: true,
          };
        }
      }
    }
    target = addresses[0] as ResolvedAddress;
  } catch (err) {
    const e = err as Error & { code?: string };
    return { ok: false, error: e.code ?? e.message, permanent: false };
  }
  // One budget for resolving and connecting together, another for the whole attempt.
  const spent = Date.now() - started;
  return send(
    url,
    target,
    opts,
    Math.max(1, opts.timeoutMs - spent),
    Math.max(1, opts.connectTimeoutMs - spent),
  );
}

function send(
  url: URL,
  target: ResolvedAddress,
  opts: PinnedPostOptions,
  timeoutMs: number,
  connectTimeoutMs: number,
): Promise<PinnedPostResult> {
  const pinned: LookupFunction = (hostname, options, callback) => {
    if (hostname !== url.hostname) {
      callback(new Error(`refused to resolve ${hostname}: only ${url.hostname} was checked`), '', 4);
    } else if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [target]);
    } else {
      callback(null, target.address, target.family);
    }
  };
  const secure = url.protocol === 'https:';
  const literal = ipOf(url.hostname) !== null;
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: PinnedPostResult) => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      clearTimeout(connecting);
      req.destroy();
      resolve(result);
    };
    const req: ClientRequest = (secure ? httpsRequest : httpRequest)({
      protocol: url.protocol,
      hostname: literal ? target.address : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...opts.headers, host: url.host, 'content-length': String(Buffer.byteLength(opts.body)) },
      agent: false,
      lookup: pinned,
      ...(secure && !literal ? { servername: url.hostname } : {}),
    });
    const overall = setTimeout(
      () => finish({ ok: false, error: `no answer within ${opts.timeoutMs} ms`, permanent: false }),
      timeoutMs,
    );
    const connecting = setTimeout(
      () =>
        finish({
          ok: false,
          error: `could not connect within ${opts.connectTimeoutMs} ms`,
          permanent: false,
        }),
      Math.min(connectTimeoutMs, timeoutMs),
    );
    req.on('socket', (socket) => {
      socket.once('connect', () => clearTimeout(connecting));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.destroy();
      finish(
        status >= 200 && status < 300
          ? { ok: true, status }
          : { ok: false, error: `receiver answered ${status}`, permanent: false, status },
      );
    });
    req.on('error', (err: Error & { code?: string }) =>
      finish({ ok: false, error: err.code ?? err.message, permanent: false }),
    );
    req.end(opts.body);
  });
}
