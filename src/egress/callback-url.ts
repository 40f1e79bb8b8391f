import { blockedAddress, ipOf } from './blocked-addresses.js';

/**
 * One `COUNTERSIGN_CALLBACK_ALLOW` entry, taken apart. `host: null` is a scheme alone (`https://`):
 * any host, and it names none. `port: null`: any port if `path` is null too, else the default port.
 * `path: null`: any path.
 */
export interface AllowEntry {
  scheme: 'http:' | 'https:';
  host: string | null;
  port: number | null;
  path: string | null;
}

const DEFAULT_PORT = { 'http:': 80, 'https:': 443 } as const;
/** Percent-encoded characters RFC 3986 §2.3 calls unreserved: decoding them changes nothing. */
const UNRESERVED = /%(4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|3[0-9]|2D|2E|5F|7E)/gi;
/** An encoded `/` or `\`: servers disagree on whether it separates segments, so it is refused. */
const ENCODED_SEPARATOR = /%(2F|5C)/i;

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * The URL as the server will send it, normalised the way WHATWG URL parsing and RFC 3986 §6.2.2 do:
 * scheme and host in lower case, IPv4 in dotted form whatever its notation (`0x7f.1`, `2130706433`),
 * IPv6 compressed, the default port dropped, `\` read as `/`, dot segments (also encoded ones)
 * resolved, unreserved characters decoded, percent-encodings in upper case, no fragment.
 */
export function normaliseUrl(raw: string): Parsed<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'is not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: 'must be an http:// or https:// URL' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'must not carry a user name or password (they can disguise the host)' };
  }
  if (ENCODED_SEPARATOR.test(url.pathname)) {
    return { ok: false, message: 'must not contain an encoded / or \\ in its path' };
  }
  url.hash = '';
  const decode = (s: string) =>
    s
      .replace(UNRESERVED, (m) => String.fromCharCode(Number.parseInt(m.slice(1), 16)))
      .replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
  // Decoding may form new dot segments (`%2E%2E` is `..`): parse once more to resolve them.
  url = new URL(`${url.origin}${decode(url.pathname)}${decode(url.search)}`);
  return { ok: true, value: url };
}

function portOf(url: URL): number {
  return url.port === '' ? DEFAULT_PORT[url.protocol as 'http:' | 'https:'] : Number(url.port);
}

/**
 * Parses an allow-list entry: a scheme alone (`https://`), or a URL prefix whose host is compared
 * whole (`https://hooks.example.com` takes any port and path on that host, never
 * `hooks.example.com.attacker.net`), with an optional port (`:8443`, compared whole) and path
 * prefix (normalised like callback URLs, then taken as written).
 */
export function parseAllowEntry(raw: string): Parsed<AllowEntry> {
  const m = /^(https?):\/\/(.*)$/i.exec(raw.trim());
  if (!m) return { ok: false, message: `"${raw}" must start with https:// or http://` };
  const scheme = `${(m[1] as string).toLowerCase()}:` as 'http:' | 'https:';
  const rest = m[2] as string;
  if (rest === '') return { ok: true, value: { scheme, host: null, port: null, path: null } };
  const authority = /^[^/?#\\]*/.exec(rest)?.[0] ?? '';
  const normalised = normaliseUrl(raw.trim());
  if (!normalised.ok || authority === '' || authority.includes('@')) {
    return {
      ok: false,
      message: `"${raw}" must be a scheme alone (https://) or a URL prefix such as https://hooks.example.com/countersign/ (no user name or password)`,
    };
  }
  const url = normalised.value;
  const explicitPort = /:(\d+)$/.exec(authority)?.[1];
  const path = rest.length > authority.length ? `${url.pathname}${url.search}` : null;
  return {
    ok: true,
    value: {
      scheme,
      host: url.hostname,
      port: explicitPort === undefined ? null : Number(explicitPort),
      path,
    },
  };
}

/** An entry written back in its canonical form (what the configuration keeps and messages show). */
export function formatAllowEntry(e: AllowEntry): string {
  return `${e.scheme}//${e.host ?? ''}${e.port === null ? '' : `:${e.port}`}${e.path ?? ''}`;
}

function matches(e: AllowEntry, url: URL): boolean {
  if (e.scheme !== url.protocol) return false;
  if (e.host === null) return true;
  if (e.host !== url.hostname) return false;
  // No port in the entry: any port when it ends at the host (`http://127.0.0.1`), else the default
  // one, as a plain prefix of the normalised URL would have it.
  if (e.port !== null ? e.port !== portOf(url) : e.path !== null && url.port !== '') return false;
  return e.path === null || `${url.pathname}${url.search}`.startsWith(e.path);
}

const entryCache = new Map<string, AllowEntry | null>();
function entryOf(raw: string): AllowEntry | null {
  let e = entryCache.get(raw);
  if (e === undefined) {
    const parsed = parseAllowEntry(raw);
    e = parsed.ok ? parsed.value : null;
    entryCache.set(raw, e);
  }
  return e;
}

export type CallbackCheck =
  | {
      ok: true;
      /** The normalised URL: what is delivered to. */
      url: URL;
      /** An entry that matches names this host: it may be a loopback, private or metadata address. */
      hostNamed: boolean;
    }
  | { ok: false; message: string };

/** A loopback name (RFC 6761 reserves `localhost` and everything under it). */
function loopbackName(host: string): boolean {
  const h = host.replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

export const REFUSED_KINDS =
  'callbacks may not reach loopback, private, link-local, metadata or other non-public addresses unless COUNTERSIGN_CALLBACK_ALLOW names the host';

/**
 * Whether `raw` may be a callback URL: normalised, it must match an allow-list entry; and its host,
 * when written as an address (in any notation) or as a loopback name, must be a public address
 * unless the matching entry names that host. Names are resolved and checked again at delivery.
 */
export function checkCallbackUrl(raw: string, allow: readonly string[]): CallbackCheck {
  const normalised = normaliseUrl(raw);
  if (!normalised.ok) return normalised;
  const url = normalised.value;
  const entries = allow.map(entryOf).filter((e): e is AllowEntry => e !== null && matches(e, url));
  if (entries.length === 0) {
    return { ok: false, message: `must start with one of: ${allow.join(', ')} (compared after normalising)` };
  }
  const hostNamed = entries.some((e) => e.host !== null);
  if (!hostNamed) {
    const ip = ipOf(url.hostname);
    const kind = ip === null ? (loopbackName(url.hostname) ? 'loopback' : null) : blockedAddress(ip);
    if (kind !== null) {
      return { ok: false, message: `points at ${url.hostname} (${kind}); ${REFUSED_KINDS}` };
    }
  }
  return { ok: true, url, hostNamed };
}
