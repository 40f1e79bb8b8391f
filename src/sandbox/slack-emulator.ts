import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMessage, checkModal } from '../../blocks/limits.js';
import type { EmulatorEvent, Ephemeral, OpenView } from './emulator-events.js';

export type { EmulatorEvent, Ephemeral, OpenView } from './emulator-events.js';

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
  /** The token the call carried (`Authorization: Bearer ...` or a `token` argument). */
  token?: string;
}

/** A conversation as conversations.info describes it, from the bot's point of view. */
export interface EmulatedChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_archived?: boolean;
  /** Whether the bot is a member (invited). */
  is_member?: boolean;
  /** The people in it (conversations.members, users.conversations). */
  members?: string[];
}

export interface Message {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  updates: number;
  /** When it was posted (Unix ms). */
  at: number;
}

export interface UploadedFile {
  id: string;
  channel: string;
  thread_ts?: string;
  filename: string;
  title?: string;
  content: string;
  /** The comment posted with it (`initial_comment`), if any. */
  comment?: string;
  /** Its place in the conversation, from the same counter as message timestamps. */
  ts: string;
  at: number;
}

export interface WorkspaceState {
  seq: number;
  messages: Message[];
  files: UploadedFile[];
  homes: Record<string, Record<string, unknown>>;
}

/** A message sent to a `response_url` (a slash command's or an action's reply). */
export interface ResponsePost {
  token: string;
  body: Record<string, unknown>;
  at: number;
  ts: string;
}

/** One Web API method: the call's arguments (and its token) in, Slack's JSON answer out. */
export type Handler = (args: Record<string, unknown>, call: { token?: string }) => Record<string, unknown>;

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
  readonly triggers = new Set<string>();
  /** What was posted to response URLs made by `responseUrl()`. */
  readonly responses: ResponsePost[] = [];
  /** The last Home view published for each user. */
  readonly homes = new Map<string, Record<string, unknown>>();
  /**
   * Channels that conversations.info, conversations.members and users.conversations know, with who is
   * in them; any other channel ID is `channel_not_found`.
   */
  readonly channels = new Map<string, EmulatedChannel>();
  /** Tokens Slack refuses (`invalid_auth` for every method), e.g. a revoked or made-up token. */
  readonly invalidTokens = new Set<string>();
  /** Scopes reported in the `x-oauth-scopes` header of each answer to a bot token; null: no header. */
  grantedScopes: string[] | null = null;
  /** Ephemeral messages (chat.postEphemeral), each visible to one user. */
  readonly ephemeralMessages: Ephemeral[] = [];
  /** Modals opened with views.open and not closed yet, by view id. */
  readonly views = new Map<string, OpenView>();
  /** Who was given each trigger id (see `issueTrigger`): the modal it opens is theirs. */
  readonly triggerOwners = new Map<string, string>();
  /** Who invoked the command or action behind each response URL token (see `issueResponseUrl`). */
  readonly responseOwners = new Map<string, string>();
  /** The link `chat.getPermalink` answers; by default a fake slack.test address. */
  permalink: (channel: string, ts: string) => string = (channel, ts) =>
    `https://fake.slack.test/archives/${channel}/p${ts.replace('.', '')}`;
  private readonly emitter = new EventEmitter();
  /** The workspace the bot token belongs to, as auth.test reports it. */
  team = { id: 'T0FAKE', enterpriseId: null as string | null };
  /** Slack's chat.postMessage allowance per channel; null = unlimited. */
  postsPerSecondPerChannel: number | null = null;
  private readonly postTimes = new Map<string, number[]>();
  private readonly failures: { method: string; error: string; status?: number; retryAfter?: number }[] = [];
  private readonly uploads = new Map<string, { filename: string; title?: string; content?: string }>();
  private server: Server | null = null;
  private readonly stopHooks: (() => Promise<void>)[] = [];
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

  /** Runs `fn` when the emulator stops (attached parts such as Socket Mode stop with it). */
  onStop(fn: () => Promise<void>): void {
    this.stopHooks.push(fn);
  }

  async stop(): Promise<void> {
    for (const fn of this.stopHooks.splice(0)) await fn();
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  addUser(user: EmulatedUser): void {
    this.users.set(user.id, user);
  }

  addChannel(channel: EmulatedChannel): void {
    this.channels.set(channel.id, channel);
  }

  /** Adds (or replaces) the handler of a Web API method, e.g. `apps.connections.open` for Socket Mode. */
  register(method: string, handler: Handler): void {
    this.handlers[method] = handler;
  }

  /** Calls `listener` on every change people would see (messages, files, ephemerals, views); returns an unsubscribe. */
  onChange(listener: (event: EmulatorEvent) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  private emit(event: EmulatorEvent): void {
    this.emitter.emit('change', event);
  }

  /** A fresh trigger id for an interaction by `user` (valid for one views.open, as in Slack). */
  issueTrigger(user: string): string {
    this.seq += 1;
    const trigger = `${this.seq}.${Date.now()}.${Math.random().toString(16).slice(2, 10)}`;
    this.triggers.add(trigger);
    this.triggerOwners.set(trigger, user);
    return trigger;
  }

  /** A response URL for a command or action by `user`; what is posted to it is shown to them. */
  issueResponseUrl(user: string): string {
    this.seq += 1;
    const token = `r${this.seq}${Math.random().toString(16).slice(2, 10)}`;
    this.responseOwners.set(token, user);
    return this.responseUrl(token);
  }

  /** What a workspace keeps across restarts: messages, files and Home tabs (not ephemerals or open modals). */
  exportState(): WorkspaceState {
    return {
      seq: this.seq,
      messages: this.messages,
      files: this.files,
      homes: Object.fromEntries(this.homes),
    };
  }

  /** Restores what `exportState` returned; new timestamps continue after the restored ones. */
  importState(state: WorkspaceState): void {
    this.messages.push(...state.messages);
    this.files.push(...state.files);
    for (const [user, view] of Object.entries(state.homes)) this.homes.set(user, view);
    this.seq = Math.max(this.seq, state.seq);
  }

  /** Shows errors inside an open modal (the app answered `response_action: errors`). */
  setViewErrors(viewId: string, errors: Record<string, string>): void {
    const open = this.views.get(viewId);
    if (!open) return;
    open.errors = errors;
    this.emit({ kind: 'view', view: open });
  }

  /** Closes a modal (submitted and accepted, or dismissed). */
  closeView(viewId: string): void {
    const open = this.views.get(viewId);
    if (!open) return;
    this.views.delete(viewId);
    this.emit({ kind: 'view_closed', view: open });
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
      const response = { token: path.slice('/respond/'.length), body, at: Date.now(), ts: this.nextTs() };
      this.responses.push(response);
      this.emit({ kind: 'response', response });
      return this.send(res, 200, { ok: true });
    }
    const method = path.replace(/^\/api\//, '');
    const args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
    const token = bearerToken(req) ?? (typeof args.token === 'string' ? args.token : undefined);
    this.calls.push({ method, args, at: Date.now(), ...(token ? { token } : {}) });
    if (token !== undefined && this.invalidTokens.has(token)) {
      return this.send(res, 200, { ok: false, error: 'invalid_auth' });
    }
    if (this.grantedScopes && token?.startsWith('xoxb-')) {
      res.setHeader('x-oauth-scopes', this.grantedScopes.join(','));
    }
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
    this.send(res, 200, handler(args, token ? { token } : {}));
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
      // A known channel refuses the bot until it is invited (`is_member`), and for good once archived.
      const known = this.channels.get(String(a.channel));
      if (known?.is_archived) return { ok: false, error: 'is_archived' };
      if (known && !known.is_member) return { ok: false, error: 'not_in_channel' };
      const msg: Message = {
        channel: String(a.channel),
        ts: this.nextTs(),
        text: String(a.text ?? ''),
        updates: 0,
        at: Date.now(),
        ...(a.thread_ts ? { thread_ts: String(a.thread_ts) } : {}),
        ...(a.blocks ? { blocks: a.blocks as unknown[] } : {}),
      };
      this.messages.push(msg);
      this.emit({ kind: 'message', message: msg });
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
      this.emit({ kind: 'message', message: msg });
      return { ok: true, channel: msg.channel, ts: msg.ts };
    },
    'chat.postEphemeral': (a) => {
      if (!a.user || !a.channel) return { ok: false, error: 'user_not_in_channel' };
      const problems = checkMessage({ text: String(a.text ?? ''), blocks: (a.blocks as never) ?? [] });
      if (problems.length > 0) return { ok: false, error: 'invalid_blocks', errors: problems };
      const ephemeral: Ephemeral = {
        channel: String(a.channel),
        user: String(a.user),
        ts: this.nextTs(),
        text: String(a.text ?? ''),
        at: Date.now(),
        ...(a.blocks ? { blocks: a.blocks as unknown[] } : {}),
        ...(a.thread_ts ? { thread_ts: String(a.thread_ts) } : {}),
      };
      this.ephemeralMessages.push(ephemeral);
      this.emit({ kind: 'ephemeral', ephemeral });
      return { ok: true, message_ts: ephemeral.ts };
    },
    'chat.getPermalink': (a) => ({
      ok: true,
      permalink: this.permalink(String(a.channel), String(a.message_ts)),
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
    'conversations.info': (a) => {
      const c = this.channels.get(String(a.channel));
      if (!c) return { ok: false, error: 'channel_not_found' };
      return {
        ok: true,
        channel: {
          id: c.id,
          name: c.name,
          is_channel: !c.is_private,
          is_group: c.is_private === true,
          is_private: c.is_private === true,
          is_archived: c.is_archived === true,
          is_member: c.is_member === true,
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
      return { ok: true, ...page(channel.members ?? [], a) };
    },
    'users.conversations': (a) => {
      const user = String(a.user ?? 'UCSBOT');
      const types = String(a.types ?? 'public_channel').split(',');
      const mine = [...this.channels.entries()]
        .filter(
          ([, c]) =>
            (user === 'UCSBOT' ? c.is_member === true : (c.members ?? []).includes(user)) &&
            types.includes(c.is_private ? 'private_channel' : 'public_channel'),
        )
        .map(([id, c]) => ({ id, is_private: c.is_private === true, is_member: true }));
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
      const view = (typeof a.view === 'string' ? JSON.parse(a.view) : a.view) as Record<string, unknown>;
      const open: OpenView = {
        id: `V${this.nextTs().replace('.', '')}`,
        user: this.triggerOwners.get(trigger) ?? null,
        view,
        errors: null,
      };
      this.triggerOwners.delete(trigger);
      this.views.set(open.id, open);
      this.emit({ kind: 'view', view: open });
      return { ok: true, view: { ...view, id: open.id } };
    },
    'views.publish': (a) => {
      if (!a.user_id) return { ok: false, error: 'invalid_arguments' };
      const problems = checkModal(a.view as never);
      if (problems.length > 0) return { ok: false, error: 'invalid_arguments', errors: problems };
      const view = (typeof a.view === 'string' ? JSON.parse(a.view) : a.view) as Record<string, unknown>;
      this.homes.set(String(a.user_id), view);
      this.emit({ kind: 'home', user: String(a.user_id), view });
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
        const file: UploadedFile = {
          id: f.id,
          channel: String(a.channel_id),
          filename: up.filename,
          content: up.content ?? '',
          ts: this.nextTs(),
          at: Date.now(),
          ...(f.title ? { title: f.title } : {}),
          ...(a.thread_ts ? { thread_ts: String(a.thread_ts) } : {}),
          ...(a.initial_comment ? { comment: String(a.initial_comment) } : {}),
        };
        this.files.push(file);
        this.emit({ kind: 'file', file });
      }
      return { ok: true, files: files.map((f) => ({ id: f.id })) };
    },
  };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice('Bearer '.length).trim() : undefined;
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
