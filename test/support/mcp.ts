import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Harness } from './harness.js';
import { buttonsOf, waitFor } from './slack-user.js';

/** Helpers for the MCP tests: the built CLI, the recording fixture server, SDK clients over stdio. */

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = resolve(ROOT, 'dist/src/cli/main.js');
export const FIXTURE = resolve(ROOT, 'test/fixtures/mcp/recording-server.mjs');

export interface Connected {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the child wrote on stderr. */
  stderr: () => string;
  /** Resolves when the child's stdio closed (it exited). */
  closed: Promise<void>;
}

/** Starts `command args` as an MCP server on stdio and connects the SDK's own client to it. */
export async function connectStdio(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd = ROOT,
): Promise<Connected> {
  const transport = new StdioClientTransport({ command, args, env, cwd, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const client = new Client({ name: 'countersign-test', version: '1.0.0' });
  let closedResolve = () => {};
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });
  client.onclose = () => closedResolve();
  await client.connect(transport);
  return { client, transport, stderr: () => err, closed };
}

/** A temporary folder for record files and policies; removed by `cleanup()`. */
export function tempDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name: string, text?: string) => {
      const path = join(dir, name);
      if (text !== undefined) writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The messages the recording fixture received (each JSON line of its record file). */
export function recorded(file: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The `tools/call` requests the fixture received: tool name and arguments. */
export function toolCalls(file: string): { name: string; arguments: unknown }[] {
  return recorded(file)
    .filter((m) => m.method === 'tools/call')
    .map((m) => {
      const params = m.params as { name: string; arguments: unknown };
      return { name: params.name, arguments: params.arguments };
    });
}

/** The request id a card carries (its small print says "ID: req_..."). */
export function idOfCard(card: { blocks?: unknown[] }): string {
  const id = /ID: (req_[0-9A-Za-z]+)/.exec(JSON.stringify(card.blocks ?? []))?.[1];
  if (!id) throw new Error('the card carries no request id');
  return id;
}

/** Waits for a card with vote buttons whose text contains `needle` and is not in `seen`; adds its id to `seen`. */
export async function pendingCard(h: Harness, needle: string, seen: Set<string>) {
  const card = await waitFor(
    () =>
      h.slack
        .cards()
        .find(
          (c) =>
            buttonsOf(c.blocks).length > 0 &&
            JSON.stringify(c.blocks).includes(needle) &&
            !seen.has(idOfCard(c)),
        ),
    `a card to vote on containing ${needle}`,
    15_000,
  );
  const id = idOfCard(card);
  seen.add(id);
  return { card, id };
}

/** The first text item of a tool result. */
export function firstText(result: unknown): string {
  const content = (result as CallToolResult).content ?? [];
  const first = content[0];
  if (first?.type !== 'text') throw new Error(`no text item in ${JSON.stringify(result)}`);
  return first.text;
}
