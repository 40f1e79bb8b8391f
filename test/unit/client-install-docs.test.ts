import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `countersign` on the public npm registry is not this project's package: a pipeline or an agent
 * config that runs a bare `npx countersign` could fetch someone else's code and hand it the
 * client secret. What pipelines and agents run must be a file the user fetched or pinned (the
 * one-file client, `countersign.mjs`) or a path in a checkout. Inside this checkout `npx` finds the
 * local package, so the server's own commands (doctor, audit, sandbox) may use it; the places
 * below run away from the checkout and must not.
 */
const ROOT = resolve(import.meta.dirname, '../..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Lines that run `npx countersign`, leaving out comments that warn against it. */
function bareNpx(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => /npx\s+(-y\s+)?countersign\b/.test(line) && !/never\b[^\n]*npx countersign/.test(line));
}

describe('pipelines and agents never run a bare `npx countersign`', () => {
  const examples = filesUnder(join(ROOT, 'examples')).filter((f) => !f.endsWith('.png'));

  it.each(examples.map((f) => [relative(ROOT, f), f]))('%s', (_name, file) => {
    expect(bareNpx(readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('MCP client configs start the gateway from a file, not through npx', () => {
    for (const name of ['.mcp.json', 'claude_desktop_config.json']) {
      const config = JSON.parse(readFileSync(join(ROOT, 'examples/mcp', name), 'utf8')) as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      const servers = Object.values(config.mcpServers);
      expect(servers.length).toBeGreaterThan(0);
      for (const s of servers) {
        expect(s.command).toBe('node');
        expect(s.args[0]).toMatch(/countersign\.mjs$/);
      }
    }
  });

  it("the README's pipeline snippets and agent configs fetch or name the client file", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
    const pipelines = blocks.filter(([, lang]) => lang === 'yaml' || lang === 'yml');
    expect(pipelines.length).toBeGreaterThan(0);
    for (const [, , body] of pipelines) expect(bareNpx(body ?? '')).toEqual([]);
    const gateway = blocks.find(([, , body]) => body?.includes('mcp-proxy --name github'));
    expect(gateway?.[2]).toMatch(/node \S*countersign\.mjs mcp-proxy/);
    expect(bareNpx(gateway?.[2] ?? '')).toEqual([]);
  });
});
