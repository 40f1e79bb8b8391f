import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RequestIo, requestCommand } from '../../src/cli/request-command.js';
import { CI_SECRET, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

// The terminal behaviour of `countersign request --wait`, driven in-process with streams that say
// they are a TTY (a child process has no terminal to test with).

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

function terminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
  const stdout = new PassThrough();
  let err = '';
  let out = '';
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let handler: ((s: 'SIGINT' | 'SIGTERM') => void) | null = null;
  const io: RequestIo = {
    env: { COUNTERSIGN_URL: h.server.url, COUNTERSIGN_SECRET: CI_SECRET },
    cwd: process.cwd(),
    stdin,
    stdout,
    stderr,
    onSignal(fn) {
      handler = fn;
      return () => {
        handler = null;
      };
    },
  };
  return {
    io,
    stdin,
    err: () => err,
    out: () => out,
    interrupt: (s: 'SIGINT' | 'SIGTERM' = 'SIGINT') => handler?.(s),
    listening: () => handler !== null,
  };
}

const args = (title: string) => [
  '--action',
  'deploy.production',
  '--title',
  title,
  '--requester-slack-id',
  PEOPLE.alice.id,
  '--wait',
];

async function started(t: ReturnType<typeof terminal>, title: string) {
  const done = requestCommand(args(title), t.io);
  const id = await waitFor(() => /^(req_\w+)$/m.exec(t.out())?.[1], 'the request id');
  await waitFor(() => t.listening() && t.err().includes('Waiting for approval'), 'the status line');
  return { id, done };
}

describe('countersign request --wait on a terminal', () => {
  it('shows a live status line (what, the Slack link, time left) updated in place', async () => {
    const t = terminal();
    const { id, done } = await started(t, 'Deploy web v2.4.0');
    const first = t.err().length;
    await waitFor(() => t.err().length > first, 'a redraw of the status line', 2500);
    const line = t.err().split('\r\x1b[2K').at(-1) ?? '';
    expect(line).toMatch(
      /^Waiting for approval of deploy\.production "Deploy web v2\.4\.0" · 0\/1 approval · /,
    );
    expect(line).toMatch(/59m \d\ds left/);
    expect(line).toContain(`https://fake.slack.test/archives/`);
    expect(t.err()).not.toMatch(/Waiting for approval[^\r]*\n/); // redrawn with \r, never scrolled
    await waitFor(() => cardOf(h, id), 'the card');
    await click(h, PEOPLE.bob.id, id, 'approve');
    expect(await done).toBe(0);
    expect(t.err()).toContain(`\r\x1b[2KApproved by Bob Builder (${id}).\n`);
  });

  it('asks on Ctrl-C and cancels on "y" (exit 3)', async () => {
    const t = terminal();
    const { id, done } = await started(t, 'Cancel me from the terminal');
    t.interrupt();
    await waitFor(
      () => t.err().includes(`Interrupted while waiting for ${id}.\nCancel the request? [y/N] `),
      'the question',
    );
    t.stdin.write('y\n');
    expect(await done).toBe(3);
    expect(t.err()).toContain(
      `Cancelled by the client ci: interrupted while waiting (countersign request) (${id}).`,
    );
    expect((await h.api.request(id)).body.status).toBe('cancelled');
  });

  it('leaves the request pending on "N" or a second Ctrl-C (exit 130)', async () => {
    const t = terminal();
    const { id, done } = await started(t, 'Keep me');
    t.interrupt();
    await waitFor(() => t.err().includes('[y/N]'), 'the question');
    t.stdin.write('\n');
    expect(await done).toBe(130);
    expect(t.err()).toContain(`Left pending: ${id} can still be decided in Slack`);
    expect((await h.api.request(id)).body.status).toBe('pending');

    const t2 = terminal();
    const second = await started(t2, 'Keep me too');
    t2.interrupt();
    await waitFor(() => t2.err().includes('[y/N]'), 'the question');
    t2.interrupt();
    expect(await second.done).toBe(130);
    expect((await h.api.request(second.id)).body.status).toBe('pending');
  });

  it('reports the decision when it came before the cancel', async () => {
    const t = terminal();
    const { id, done } = await started(t, 'Approved meanwhile');
    await waitFor(() => cardOf(h, id), 'the card');
    t.interrupt();
    await waitFor(() => t.err().includes('[y/N]'), 'the question');
    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(async () => (await h.api.request(id)).body.status === 'approved', 'the approval');
    t.stdin.write('yes\n');
    expect(await done).toBe(0);
    expect(t.err()).toContain('Too late to cancel: it is already approved.');
  });
});
