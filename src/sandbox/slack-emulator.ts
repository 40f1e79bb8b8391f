import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMessage, checkModal } from '../../blocks/limits.js';

export interface EmulatedUser {
  id: string;
  name?: string;
  email?: string;
  team_id?: string;
  /** Enterprise Grid organisation of the user (users.info's `enterprise_user.enterprise_id`). */
  enterprise_id?: string;
  is_bot?: boolean;
  is_app_user?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  deleted?: boolean;
}

export interface Call {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

export interface Message {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  updates: number;
}

export interface UploadedFile {
  id: string;
  channel: string;
  thread_ts?: string;
  filename: string;
  title?: string;
  content: string;
}

/** A message sent to a `response_url` (a slash command's or an action's reply). */
export interface ResponsePost {
  token: string;
  body: Record<string, unknown>;
  at: number;
}

type Handler = (args: Record<string, unknown>) => Record<string, unknown>;

/**
 * An emulated Slack Web API on 127.0.0.1: the one emulator behind both the component tests and the
 * sandbox. It records every call, keeps messages, and rejects what Slack rejects: Block Kit over the limits (the product's own checker), unknown trigger ids, unknown
 * messages, and (when set) more than `postsPerSecondPerChannel` posts per channel, with a 429.
 */
export class SlackEmulator {
  readonly calls: Call[] = [];
  readonly messages: Message[] = [];
  readonly files: UploadedFile[] = [];
  readonly users = new Map<string, EmulatedUser>();
  readonly groups = new Map<string, string[]>();
  /** Channels and who is in them (conversations.members, users.conversations); the bot is in every one. */
  readonly channels = new Map<string, { members: string[]; isPrivate: boolean }>();
  readonly triggers = new Set<string>();
  /** What was posted to response URLs made by `responseUrl()`. */
  readonly responses: ResponsePost[] = [];
  /** The last Home view published for each user. */
  readonly homes = new Map<string, Record<string, unknown>>();
  /** The workspace the bot token belongs to, as auth.test reports it. */
  team = { id: 'T0FAKE', enterpriseId: null as string | null };
  /** Slack's chat.postMessage allowance per channel; null = unlimited. */
  postsPerSecondPerChannel: number | null = null;
  private readonly postTimes = new Map<string, number[]>();
  private readonly failures: { method: string; error: string; status?: number; retryAfter?: number }[] = [];
  private readonly uploads = new Map<string, { filename: string; title?: string; content?: string }>();
  private server: Server | null = null;
  private seq = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  addUser(user: EmulatedUser): void {
    this.users.set(user.id, user);
  }

  /** A channel and its members (add people later by pushing to `channels.get(id).members`). */
  addChannel(id: string, members: string[], opts: { isPrivate?: boolean } = {}): void {
    this.channels.set(id, { members: [...members], isPrivate: opts.isPrivate ?? false });
  }

  /** The next call of `method` fails with `error` (HTTP 200 `ok:false`), or a 429 when status is 429. */
  failNext(method: string, error: string, opts: { status?: number; retryAfter?: number } = {}): void {
    this.failures.push({ method, error, ...opts });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** A response_url served by this fake (Slack's hooks.slack.com/commands/... in real life). */
  responseUrl(token: string): string {
    return `${this.url.replace(/\/api\/$/, '')}/respond/${token}`;
  }

  responsesTo(token: string): ResponsePost[] {
    return this.responses.filter((r) => r.token === token);
  }

  callsOf(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Top-level messages (cards) in a channel, oldest first. */
  cards(channel?: string): Message[] {
    return this.messages.filter((m) => !m.thread_ts && (channel === undefined || m.channel === channel));
  }

  thread(ts: string): Message[] {
    return this.messages.filter((m) => m.thread_ts === ts);
  }

  ephemerals(user?: string): Call[] {
    return this.callsOf('chat.postEphemeral').filter((c) => user === undefined || c.args.user === user);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/upload/')) {
      const id = path.slice('/upload/'.length);
      const upload = this.uploads.get(id);
      if (!upload) return this.send(res, 404, { ok: false, error: 'unknown_upload' });
      upload.content = extractUpload(raw, String(req.headers['content-type'] ?? ''));
      return this.send(res, 200, { ok: true });
    }
    if (path.startsWith('/respond/')) {
      const body = parseArgs(raw, String(req.headers['content-type'] ?? ''));
      const problems = checkMessage({ text: body.text ?? '', blocks: body.blocks ?? [] });
      if (problems.length > 0)
        return this.send(res, 400, { ok: false, error: 'invalid_blocks', errors: problems });
      this.responses.push({ token: path.slice('/respond/'.length), body, at: Date.now() });
      return this.send(res, 200, { ok: true });
    }
    const method = path.replace(/^\/api\//, '');
    const args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
    this.calls.push({ method, args, at: Date.now() });
    const failure = this.failures.findIndex((f) => f.method === method);
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      if (f?.status === 429) {
        res.setHeader('retry-after', String(f.retryAfter ?? 1));
        return this.send(res, 429, { ok: false, error: 'ratelimited' });
      }
      return this.send(res, f?.status ?? 200, { ok: false, error: f?.error });
    }
    const handler = this.handlers[method];
    if (!handler) return this.send(res, 200, { ok: false, error: 'unknown_method' });
    if (method === 'chat.postMessage' && this.postsPerSecondPerChannel !== null) {
      const limited = this.rateLimit(String(args.channel));
      if (limited > 0) {
        res.setHeader('retry-after', String(limited));
        return this.send(res, 429, { ok: false, error: 'ratelimited' });
      }
    }
    this.send(res, 200, handler(args));
  }

  private rateLimit(channel: string): number {
    const now = Date.now();
    const recent = (this.postTimes.get(channel) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= (this.postsPerSecondPerChannel ?? Infinity)) {
      this.postTimes.set(channel, recent);
      return 1;
    }
    recent.push(now);
    this.postTimes.set(channel, recent);
    return 0;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private nextTs(): string {
    this.seq += 1;
    return `1700000000.${String(this.seq).padStart(6, '0')}`;
  }

  private readonly handlers: Record<string, Handler> = {
    'auth.test': () => ({
      ok: true,
      user_id: 'UCSBOT',
      bot_id: 'BCSBOT',
      team_id: this.team.id,
      ...(this.team.enterpriseId ? { enterprise_id: this.team.enterpriseId } : {}),
      user: 'countersign',
    }),
    'chat.postMessage': (a) => {
      const problems = checkMessage({ text: String(a.text ?? ''), blocks: (a.blocks as never) ?? [] });
      if (problems.length > 0) return { ok: false, error: 'invalid_blocks', errors: problems };
      if (!a.channel) return { ok: false, error: 'channel_not_found' };
      const msg: Message = {
        channel: String(a.channel),
        ts: this.nextTs(),
        text: String(a.text ?? ''),
        updates: 0,
        ...(a.thread_ts ? { thread_ts: String(a.thread_ts) } : {}),
        ...(a.blocks ? { blocks: a.blocks as unknown[] } : {}),
      };
      this.messages.push(msg);
      return { ok: true, channel: msg.channel, ts: msg.ts, message: { text: msg.text, ts: msg.ts } };
    },
    'chat.update': (a) => {
      const msg = this.messages.find((m) => m.channel === a.channel && m.ts === a.ts);
      if (!msg) return { ok: false, error: 'message_not_found' };
      const problems = checkMessage({ text: String(a.text ?? ''), blocks: (a.blocks as never) ?? [] });
      if (problems.length > 0) return { ok: false, error: 'invalid_blocks', errors: problems };
      msg.text = String(a.text ?? '');
      msg.blocks = (a.blocks as unknown[]) ?? [];
      msg.updates += 1;
      return { ok: true, channel: msg.channel, ts: msg.ts };
    },
    'chat.postEphemeral': (a) =>
      a.user && a.channel
        ? { ok: true, message_ts: this.nextTs() }
        : { ok: false, error: 'user_not_in_channel' },
    'chat.getPermalink': (a) => ({
      ok: true,
      permalink: `https://fake.slack.test/archives/${String(a.channel)}/p${String(a.message_ts).replace('.', '')}`,
    }),
    'users.info': (a) => {
      const u = this.users.get(String(a.user));
      if (!u) return { ok: false, error: 'user_not_found' };
      return {
        ok: true,
        user: {
          id: u.id,
          team_id: u.team_id ?? 'T0FAKE',
          name: u.name ?? u.id.toLowerCase(),
          real_name: u.name ?? u.id,
          deleted: u.deleted ?? false,
          is_bot: u.is_bot ?? false,
          is_app_user: u.is_app_user ?? false,
          is_restricted: u.is_restricted ?? false,
          is_ultra_restricted: u.is_ultra_restricted ?? false,
          ...(u.enterprise_id ? { enterprise_user: { id: u.id, enterprise_id: u.enterprise_id } } : {}),
          profile: { email: u.email, real_name: u.name ?? u.id },
        },
      };
    },
    'users.lookupByEmail': (a) => {
      const email = String(a.email).toLowerCase();
      const u = [...this.users.values()].find((x) => x.email?.toLowerCase() === email);
      return u
        ? { ok: true, user: { id: u.id, team_id: u.team_id ?? 'T0FAKE' } }
        : { ok: false, error: 'users_not_found' };
    },
    'conversations.members': (a) => {
      const channel = this.channels.get(String(a.channel));
      if (!channel) return { ok: false, error: 'channel_not_found' };
      return { ok: true, ...page(channel.members, a) };
    },
    'users.conversations': (a) => {
      const user = String(a.user ?? 'UCSBOT');
      const types = String(a.types ?? 'public_channel').split(',');
      const mine = [...this.channels.entries()]
        .filter(
          ([, c]) =>
            (user === 'UCSBOT' || c.members.includes(user)) &&
            types.includes(c.isPrivate ? 'private_channel' : 'public_channel'),
        )
        .map(([id, c]) => ({ id, is_private: c.isPrivate, is_member: true }));
      const { members, response_metadata } = page(mine, a);
      return { ok: true, channels: members, response_metadata };
    },
    'usergroups.users.list': (a) => {
      const members = this.groups.get(String(a.usergroup));
      return members ? { ok: true, users: members } : { ok: false, error: 'no_such_subteam' };
    },
    'views.open': (a) => {
      const trigger = String(a.trigger_id);
      if (!this.triggers.has(trigger)) return { ok: false, error: 'invalid_trigger_id' };
      this.triggers.delete(trigger);
      const problems = checkModal(a.view as never);
      if (problems.length > 0) return { ok: false, error: 'invalid_arguments', errors: problems };
      return { ok: true, view: { id: `V${this.nextTs().replace('.', '')}` } };
    },
    'views.publish': (a) => {
      if (!a.user_id) return { ok: false, error: 'invalid_arguments' };
      const problems = checkModal(a.view as never);
      if (problems.length > 0) return { ok: false, error: 'invalid_arguments', errors: problems };
      this.homes.set(String(a.user_id), a.view as Record<string, unknown>);
      return { ok: true, view: { id: 'VHOME' } };
    },
    'files.getUploadURLExternal': (a) => {
      const id = `F${this.nextTs().replace('.', '')}`;
      this.uploads.set(id, { filename: String(a.filename) });
      return { ok: true, upload_url: `${this.url.replace(/\/api\/$/, '')}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (a) => {
      const files = (typeof a.files === 'string' ? JSON.parse(a.files) : a.files) as {
        id: string;
        title?: string;
      }[];
      for (const f of files) {
        const up = this.uploads.get(f.id);
        if (!up) return { ok: false, error: 'file_not_found' };
        this.files.push({
          id: f.id,
          channel: String(a.channel_id),
          filename: up.filename,
          content: up.content ?? '',
          ...(f.title ? { title: f.title } : {}),
          ...(a.thread_ts ? { thread_ts: String(a.thread_ts) } : {}),
        });
      }
      return { ok: true, files: files.map((f) => ({ id: f.id })) };
    },
  };
}

/** One page of `items` as Slack pages them: `limit` (default 100) and an opaque `cursor`. */
function page<T>(
  items: T[],
  args: Record<string, unknown>,
): { members: T[]; response_metadata: { next_cursor: string } } {
  const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), 1000);
  const start = args.cursor
    ? Number(Buffer.from(String(args.cursor), 'base64').toString('utf8').replace(/^at:/, '')) || 0
    : 0;
  const end = start + limit;
  return {
    members: items.slice(start, end),
    response_metadata: { next_cursor: end < items.length ? Buffer.from(`at:${end}`).toString('base64') : '' },
  };
}

function parseArgs(raw: Buffer, type: string): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (type.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    out[k] = v.startsWith('[') || v.startsWith('{') ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** The uploaded bytes: raw body, or the file part of a multipart form. */
function extractUpload(raw: Buffer, type: string): string {
  const boundary = /boundary=([^;]+)/.exec(type)?.[1];
  if (!boundary) return raw.toString('utf8');
  const text = raw.toString('utf8');
  const part = text.split(`--${boundary}`).find((p) => p.includes('filename='));
  if (!part) return '';
  const start = part.indexOf('\r\n\r\n');
  return part.slice(start + 4).replace(/\r\n$/, '');
}
