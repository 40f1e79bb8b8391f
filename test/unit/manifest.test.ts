import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(root, 'manifest.yml'), 'utf8');
const manifest = parse(text) as {
  features: {
    bot_user?: { display_name?: string };
    app_home?: { home_tab_enabled?: boolean };
    slash_commands?: { command: string; url: string; usage_hint?: string }[];
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    event_subscriptions?: { request_url: string; bot_events?: string[]; user_events?: string[] };
    interactivity?: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled?: boolean;
  };
};
const socketText = readFileSync(join(root, 'manifest.socket-mode.yml'), 'utf8');
const socketManifest = parse(socketText) as typeof manifest;

/**
 * The bot scopes each Slack Web API method needs (https://api.slack.com/methods). An empty list: the
 * method needs no scope. A method the code calls that is missing here fails the test, so whoever adds
 * a call also decides its scope.
 */
const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.getPermalink': [],
  // Any one of these answers for a channel of its kind; the app checks public and private channels.
  'conversations.info': ['channels:read', 'groups:read'],
  // The helper runs files.getUploadURLExternal + files.completeUploadExternal.
  'files.uploadV2': ['files:write'],
  // users:read for the account flags; users:read.email for the email that catches self-approval.
  'users.info': ['users:read', 'users:read.email'],
  'users.lookupByEmail': ['users:read.email'],
  'usergroups.users.list': ['usergroups:read'],
  // Members of a request's channel, public or private: who may read it in /approvals.
  'conversations.members': ['channels:read', 'groups:read'],
  'views.open': [],
  'views.publish': [],
};

/** Bolt features that need a scope of their own (not a Web API call). */
const FEATURE_SCOPES: { pattern: RegExp; what: string; scopes: string[] }[] = [
  { pattern: /\bapp\.command\(/, what: 'a slash command listener', scopes: ['commands'] },
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const sources = sourceFiles(join(root, 'src')).map((path) => ({
  file: relative(root, path),
  text: readFileSync(path, 'utf8'),
}));

/** Every `client.<ns>.<method>(` (any receiver: `this.client`, `deps.client`, `client`) and `apiCall('x.y'`. */
function calledMethods(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (method: string, file: string) => found.set(method, [...(found.get(method) ?? []), file]);
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/\bclient\s*\.\s*((?:[a-zA-Z]+\s*\.\s*)+[a-zA-Z0-9]+)\s*\(/g)) {
      add((m[1] ?? '').replace(/\s+/g, ''), file);
    }
    for (const m of text.matchAll(/\bapiCall\(\s*['"`]([a-zA-Z0-9.]+)['"`]/g)) add(m[1] ?? '', file);
  }
  return found;
}

const called = calledMethods();
const listed = manifest.oauth_config.scopes.bot;

describe('manifest.yml', () => {
  it('finds the Slack calls in the code (the scan works)', () => {
    for (const m of ['chat.postMessage', 'chat.update', 'views.open', 'views.publish', 'files.uploadV2']) {
      expect(called.has(m), `${m} should be found in src/`).toBe(true);
    }
  });

  it('knows the scope of every Slack method the code calls', () => {
    const unknown = [...called.keys()].filter((m) => !(m in METHOD_SCOPES));
    expect(unknown, 'add these methods and their scopes to METHOD_SCOPES').toEqual([]);
  });

  it('lists every scope the code needs', () => {
    const missing: string[] = [];
    for (const [method, files] of called) {
      for (const scope of METHOD_SCOPES[method] ?? []) {
        if (!listed.includes(scope)) missing.push(`${scope} (for ${method} in ${files.join(', ')})`);
      }
    }
    for (const f of FEATURE_SCOPES) {
      if (!sources.some((s) => f.pattern.test(s.text))) continue;
      for (const scope of f.scopes) if (!listed.includes(scope)) missing.push(`${scope} (for ${f.what})`);
    }
    expect(missing).toEqual([]);
  });

  it('lists only scopes the code uses', () => {
    const used = new Set<string>();
    for (const method of called.keys()) for (const s of METHOD_SCOPES[method] ?? []) used.add(s);
    for (const f of FEATURE_SCOPES) {
      if (sources.some((s) => f.pattern.test(s.text))) for (const s of f.scopes) used.add(s);
    }
    expect(listed.filter((s) => !used.has(s))).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
    expect(manifest.oauth_config.scopes.user ?? []).toEqual([]);
  });

  it('says why for every scope, in a comment right above it', () => {
    const lines = text.split('\n');
    for (const scope of listed) {
      const at = lines.findIndex((l) => l.trim() === `- ${scope}`);
      expect(at, `${scope} on a line of its own`).toBeGreaterThan(0);
      expect(lines[at - 1]?.trim().startsWith('#'), `a comment above ${scope}`).toBe(true);
    }
  });

  it('has a bot user, the Home tab, and /approvals, interactivity and events all on /slack/events', () => {
    const endsRight = (url: string | undefined) => /^https:\/\/[^/]+\/slack\/events$/.test(url ?? '');
    expect(manifest.features.bot_user?.display_name).toBeTruthy();
    expect(manifest.features.app_home?.home_tab_enabled).toBe(true);
    const commands = manifest.features.slash_commands ?? [];
    expect(commands.map((c) => c.command)).toEqual(['/approvals']);
    expect(endsRight(commands[0]?.url)).toBe(true);
    for (const sub of ['help', 'list', 'mine', 'show', 'stats', 'cancel', 'audit verify']) {
      expect(commands[0]?.usage_hint).toContain(sub);
    }
    expect(manifest.settings.interactivity?.is_enabled).toBe(true);
    expect(endsRight(manifest.settings.interactivity?.request_url)).toBe(true);
    expect(endsRight(manifest.settings.event_subscriptions?.request_url)).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  it('subscribes to exactly the events the code listens to', () => {
    const listened = new Set<string>();
    for (const { text } of sources) {
      for (const m of text.matchAll(/\bapp\.event\(\s*['"`]([a-z_]+)['"`]/g)) listened.add(m[1] ?? '');
    }
    expect([...listened]).toContain('app_home_opened');
    expect(new Set(manifest.settings.event_subscriptions?.bot_events ?? [])).toEqual(listened);
    expect(manifest.settings.event_subscriptions?.user_events ?? []).toEqual([]);
  });
});

describe('manifest.socket-mode.yml', () => {
  it('is the same app as manifest.yml with Socket Mode on and no URLs', () => {
    expect(socketManifest.settings.socket_mode_enabled).toBe(true);
    const settings = socketText
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(settings).not.toMatch(/https?:\/\/|request_url|\burl:/);
    const withoutUrls = structuredClone(manifest) as typeof manifest & {
      settings: { interactivity?: { request_url?: string }; event_subscriptions?: { request_url?: string } };
    };
    for (const c of withoutUrls.features.slash_commands ?? []) delete (c as { url?: string }).url;
    delete withoutUrls.settings.interactivity?.request_url;
    delete (withoutUrls.settings.event_subscriptions as { request_url?: string } | undefined)?.request_url;
    withoutUrls.settings.socket_mode_enabled = true;
    expect(socketManifest).toEqual(withoutUrls);
  });

  it('says why for every scope, like manifest.yml', () => {
    const lines = socketText.split('\n');
    for (const scope of socketManifest.oauth_config.scopes.bot) {
      const at = lines.findIndex((l) => l.trim() === `- ${scope}`);
      expect(lines[at - 1]?.trim().startsWith('#'), `a comment above ${scope}`).toBe(true);
    }
  });
});
