import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Captured, spawnCaptured } from '../support/child.js';
import { waitFor } from '../support/slack-user.js';

const MAIN = join(import.meta.dirname, '../../dist/src/main.js');
const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-sandbox-start-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function start(script: string, args: string[], cwd: string, env: Record<string, string>): Captured {
  const p = spawnCaptured(process.execPath, [script, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  cleanup.push(async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.done;
  });
  return p;
}

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

/** Resolves true when a TCP connection to host:port is accepted, false when it is refused. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('npm start with no Slack credential', () => {
  it('starts the sandbox on 127.0.0.1 only, whatever HOST says, writes the connection file and removes it at stop', async () => {
    const dir = folder();
    const port = freePort();
    // An empty value counts as unset.
    const p = start(MAIN, [], dir, { PORT: String(port), HOST: '0.0.0.0', SLACK_BOT_TOKEN: '' });
    const url = `http://127.0.0.1:${port}/sandbox`;
    await waitFor(() => p.out().includes(url) || p.child.exitCode !== null, 'the sandbox banner', 20_000);
    expect(p.out()).toContain(url);
    expect(p.out()).toContain('HOST=0.0.0.0 is ignored');
    expect(p.out()).toContain('SLACK_APP_TOKEN');
    expect(p.out()).toContain('npx countersign request');

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Acting as');
    // Bound to 127.0.0.1 alone: another loopback address and the machine's own addresses are refused.
    expect(await accepts('127.0.0.1', port)).toBe(true);
    expect(await accepts('127.0.0.2', port)).toBe(false);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === 'IPv4')
      .map((a) => a?.address as string);
    for (const address of external) expect(await accepts(address, port), address).toBe(false);

    const file = join(dir, 'data', 'sandbox', 'connection.json');
    const connection = JSON.parse(readFileSync(file, 'utf8'));
    expect(connection).toEqual({
      url: `http://127.0.0.1:${port}`,
      client: 'demo',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
      pid: p.child.pid,
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'data', 'sandbox', 'countersign.db'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'countersign.db'))).toBe(false);

    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET']) {
    it(`never starts the sandbox when ${name} is set: the real server asks for what is missing`, async () => {
      const dir = folder();
      const value =
        name === 'SLACK_BOT_TOKEN' ? 'xoxb-1' : name === 'SLACK_APP_TOKEN' ? 'xapp-1' : 'secret-123456';
      const p = start(MAIN, [], dir, { PORT: String(freePort()), [name]: value });
      const done = await p.done;
      expect(done.code).toBe(1);
      expect(done.stdout + done.stderr).not.toContain('/sandbox');
      expect(done.stderr).toContain('Countersign cannot start');
      expect(existsSync(join(dir, 'data', 'sandbox'))).toBe(false);
    });
  }

  it('never starts the sandbox when a Slack variable is set in .env', async () => {
    const dir = folder();
    writeFileSync(join(dir, '.env'), 'SLACK_SIGNING_SECRET=from-the-env-file\n');
    const p = start(MAIN, [], dir, { PORT: String(freePort()) });
    const done = await p.done;
    expect(done.code).toBe(1);
    expect(done.stdout).not.toContain('/sandbox');
    expect(existsSync(join(dir, 'data', 'sandbox'))).toBe(false);
  });
});

describe('countersign sandbox', () => {
  it('starts the sandbox on --port, even where Slack variables are set, and refuses a second one in the same folder', async () => {
    const dir = folder();
    const port = freePort();
    const p = start(CLI, ['sandbox', '--port', String(port)], dir, {
      SLACK_BOT_TOKEN: 'xoxb-real-token',
      PORT: '1',
    });
    const url = `http://127.0.0.1:${port}/sandbox`;
    await waitFor(() => p.out().includes(url) || p.child.exitCode !== null, 'the sandbox banner', 20_000);
    expect(p.out()).toContain(url);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const second = start(CLI, ['sandbox', '--port', String(freePort())], dir, {});
    const refused = await second.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`a sandbox already runs from this folder (process ${p.child.pid}`);

    p.child.kill('SIGINT');
    expect((await p.done).code).toBe(0);
  });

  it('explains a bad --port', async () => {
    const p = start(CLI, ['sandbox', '--port', 'eighty'], folder(), {});
    const done = await p.done;
    expect(done.code).toBe(4);
    expect(done.stderr).toContain('--port must be a port number from 0 to 65535, not "eighty"');
  });
});
