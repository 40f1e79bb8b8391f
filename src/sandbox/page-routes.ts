/**
 * The `/sandbox` routes, mounted on the product's own port: the page, its assets, the live event
 * stream, and the page's actions. An action is what a person does in Slack; it reaches the app
 * through the emulated workspace (WorkspaceActions), signed and shaped as Slack sends it.
 */

import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import { sendError, sendJson } from '../http/respond.js';
import type { Route, RoutedRequest } from '../http/router.js';
import type { Logger } from '../log.js';
import { packageRoot } from '../store/package-root.js';
import { DEMO_REQUESTS } from './demo-requests.js';
import { pageGuards } from './page-guards.js';
import { pageHtml } from './page-html.js';
import type { PageOp, PageState } from './page-state.js';
import { CHANNEL, DEMO_PEOPLE } from './people.js';
import type { SlackEmulator } from './slack-emulator.js';
import type { ActionResult, WorkspaceActions } from './workspace-actions.js';

export type DemoResult = { ok: true; id: string } | { ok: false; status: number; message: string };

export interface PageDeps {
  slack: SlackEmulator;
  actions: WorkspaceActions;
  state: PageState;
  port: number;
  submitDemo: (key: string) => Promise<DemoResult>;
  log: Logger;
}

/** The page's actions are small JSON bodies (a click, a modal's values, a command line). */
const ACTION_BODY_LIMIT = 64 * 1024;

const ASSETS: Record<string, string> = {
  'sandbox.css': 'text/css; charset=utf-8',
  'sandbox.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** Nothing but this server: no CDN, fonts or remote scripts, and no framing by other sites. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const person = z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'must be a user ID of the sandbox workspace');
const blockRef = z.string().min(1).max(255);
const clickBody = z.object({
  as: person,
  place: z.union([
    z.object({ message: z.object({ channel: z.string().min(1).max(40), ts: z.string().min(1).max(40) }) }),
    z.object({ home: z.literal(true) }),
    z.object({ viewId: z.string().min(1).max(40) }),
  ]),
  blockId: blockRef,
  actionId: blockRef,
});
const submitBody = z.object({
  as: person,
  viewId: z.string().min(1).max(40),
  values: z.record(z.string(), z.record(z.string(), z.string().max(3000))),
});
const closeBody = z.object({ as: person, viewId: z.string().min(1).max(40) });
const commandBody = z.object({ as: person, text: z.string().max(4000) });
const homeBody = z.object({ as: person });
const demoBody = z.object({ kind: z.string().max(40) });

export function sandboxRoutes(deps: PageDeps): { routes: Route[]; closeStreams: () => void } {
  const { hostAllowed, readJson } = pageGuards(deps.port, (id) => deps.slack.users.has(id));
  const assetsDir = join(packageRoot(), 'src', 'sandbox', 'assets');
  const assets = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(join(assetsDir, name))]));
  const assetVersion = String(Date.now());
  const streams = new Set<ServerResponse>();

  const answer = (res: ServerResponse, result: ActionResult & { errors?: Record<string, string> }) => {
    if (result.ok) sendJson(res, 200, { ok: true, ...(result.errors ? { errors: result.errors } : {}) });
    else sendError(res, result.status >= 400 && result.status < 500 ? result.status : 502, result.error);
  };

  /** Runs an action handler, turning a thrown error into a logged 500. */
  const action =
    <T>(schema: z.ZodType<T>, run: (body: T, res: ServerResponse) => Promise<void>) =>
    (req: RoutedRequest, res: ServerResponse) => {
      readJson(req, res, schema)
        .then((body) => (body === null ? undefined : run(body, res)))
        .catch((err) => {
          deps.log.error('sandbox action failed', { path: req.url, error: err });
          sendError(res, 500, 'internal_error', { message: (err as Error).message });
        });
    };

  const stream = (req: RoutedRequest, res: ServerResponse) => {
    if (!hostAllowed(req, res)) return;
    const viewer = new URL(req.url ?? '', 'http://x').searchParams.get('as') ?? '';
    if (!deps.slack.users.has(viewer)) return sendError(res, 400, 'unknown_person');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('reset', deps.state.snapshot(viewer));
    const off = deps.slack.onChange((e) => {
      for (const op of deps.state.opsFor(e, viewer) as PageOp[]) send('op', op);
    });
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    streams.add(res);
    const done = () => {
      off();
      clearInterval(ping);
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  };

  const routes: Route[] = [
    {
      method: 'GET',
      bodyLimit: 0,
      path: '/',
      handler: (req, res) => {
        if (!hostAllowed(req, res)) return;
        res.writeHead(302, { location: '/sandbox' }).end();
      },
    },
    {
      method: 'GET',
      bodyLimit: 0,
      path: '/sandbox',
      handler: (req, res) => {
        if (!hostAllowed(req, res)) return;
        const html = pageHtml({ people: DEMO_PEOPLE, demos: DEMO_REQUESTS, channel: CHANNEL, assetVersion });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...PAGE_HEADERS }).end(html);
      },
    },
    {
      method: 'GET',
      bodyLimit: 0,
      path: '/sandbox/assets/:name',
      handler: (req, res) => {
        if (!hostAllowed(req, res)) return;
        const name = req.params.name ?? '';
        const body = assets.get(name);
        if (!body) return sendError(res, 404, 'not_found');
        res
          .writeHead(200, { 'content-type': ASSETS[name] ?? 'application/octet-stream', ...PAGE_HEADERS })
          .end(body);
      },
    },
    { method: 'GET', path: '/sandbox/events', bodyLimit: 0, handler: stream },
    {
      method: 'POST',
      bodyLimit: ACTION_BODY_LIMIT,
      path: '/sandbox/api/click',
      handler: action(clickBody, async (b, res) =>
        answer(res, await deps.actions.click(b.as, b.place, b.blockId, b.actionId)),
      ),
    },
    {
      method: 'POST',
      bodyLimit: ACTION_BODY_LIMIT,
      path: '/sandbox/api/submit',
      handler: action(submitBody, async (b, res) =>
        answer(res, await deps.actions.submitView(b.as, b.viewId, b.values)),
      ),
    },
    {
      method: 'POST',
      bodyLimit: ACTION_BODY_LIMIT,
      path: '/sandbox/api/close',
      handler: action(closeBody, async (b, res) => answer(res, deps.actions.closeView(b.as, b.viewId))),
    },
    {
      method: 'POST',
      bodyLimit: ACTION_BODY_LIMIT,
      path: '/sandbox/api/command',
      handler: action(commandBody, async (b, res) => {
        const m = /^\s*(\/[a-z0-9_-]+)\s*([\s\S]*)$/i.exec(b.text);
        if (m?.[1]?.toLowerCase() !== '/approvals') {
          return sendError(res, 400, 'unknown_command', {
            message: 'This sandbox has one slash command: /approvals (try /approvals help).',
          });
        }
        answer(res, await deps.actions.slashCommand(b.as, CHANNEL, '/approvals', (m[2] ?? '').trim()));
      }),
    },
    {
      method: 'POST',
      bodyLimit: ACTION_BODY_LIMIT,
      path: '/sandbox/api/home',
      handler: action(homeBody, async (b, res) => answer(res, await deps.actions.openHome(b.as))),
    },
    {
      method: 'POST',
      bodyLimit: ACTION_BODY_LIMIT,
      path: '/sandbox/api/demo',
      handler: action(demoBody, async (b, res) => {
        const result = await deps.submitDemo(b.kind);
        if (result.ok) sendJson(res, 201, { ok: true, id: result.id });
        else sendError(res, result.status, 'demo_failed', { message: result.message });
      }),
    },
  ];
  return {
    routes,
    closeStreams: () => {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
