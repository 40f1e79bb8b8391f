import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

/** The value of one sample (`name{labels} value`) in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let h: Harness;
  const scrape = async () => {
    const res = await fetch(`${h.server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  it('reports pending requests, decisions by outcome, time to decision, intake and Slack call latency', async () => {
    const res = await h.api.create(requestBody());
    const id = res.body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    let text = await scrape();
    expect(sample(text, 'countersign_requests_pending')).toBe(1);
    expect(
      sample(text, 'countersign_http_request_duration_seconds_count', {
        route: '/api/v1/requests',
        method: 'POST',
        status: '201',
      }),
    ).toBe(1);
    expect(
      sample(text, 'countersign_slack_api_call_duration_seconds_count', {
        method: 'chat.postMessage',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'countersign_slack_api_call_duration_seconds_count', {
        method: 'auth.test',
        status: '200',
      }),
    ).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(
      async () => (await h.server.approvals.requests.get(id))?.status === 'approved',
      'the approval',
    );
    text = await scrape();
    expect(sample(text, 'countersign_requests_pending')).toBe(0);
    expect(sample(text, 'countersign_decisions_total', { outcome: 'approved' })).toBe(1);
    expect(sample(text, 'countersign_time_to_decision_seconds_count', { outcome: 'approved' })).toBe(1);
    expect(
      sample(text, 'countersign_time_to_decision_seconds_bucket', { outcome: 'approved', le: '+Inf' }),
    ).toBe(1);

    const cancelled = await h.api.create(requestBody());
    await h.api.cancel(cancelled.body.id as string);
    expect(sample(await scrape(), 'countersign_decisions_total', { outcome: 'cancelled' })).toBe(1);
  });

  it('counts Slack 429s', async () => {
    h.slack.failNext('chat.postMessage', 'ratelimited', { status: 429, retryAfter: 1 });
    const res = await h.api.create(requestBody());
    await waitFor(() => cardOf(h, res.body.id as string), 'the card, posted after the pause');
    expect(
      sample(await scrape(), 'countersign_slack_rate_limited_total', { method: 'chat.postMessage' }),
    ).toBe(1);
    expect(
      sample(await scrape(), 'countersign_slack_api_call_duration_seconds_count', {
        method: 'chat.postMessage',
        status: '429',
      }),
    ).toBe(1);
  });

  it('shows the outbox backlog and the age of its oldest row, and counts callback failures', async () => {
    const res = await h.api.create(requestBody({ callback_url: 'http://127.0.0.1:1/hook' }));
    await h.api.cancel(res.body.id as string);
    // Nothing listens on port 1: the callback fails and stays queued for its retries.
    await waitFor(
      async () => (sample(await scrape(), 'countersign_callback_failures_total') ?? 0) >= 1,
      'a failed callback',
    );
    const text = await scrape();
    expect(sample(text, 'countersign_outbox_backlog')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'countersign_outbox_oldest_age_seconds')).toBeGreaterThan(0);
  });
});

describe('GET /metrics with COUNTERSIGN_METRICS_TOKEN', () => {
  let h: Harness;
  const token = 'metrics-token-0123456789abcdef';
  beforeAll(async () => {
    h = await startHarness({ env: { COUNTERSIGN_METRICS_TOKEN: token } });
  });
  afterAll(() => h.stop());

  it('refuses without the bearer token, and with a wrong one', async () => {
    const none = await fetch(`${h.server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    const wrong = await fetch(`${h.server.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${h.server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('countersign_requests_pending');
  });
});

describe('GET /metrics in Socket Mode', () => {
  it('shows the WebSocket to Slack as connected, and counts reconnections', async () => {
    const h = await startHarness({ slackMode: 'socket' });
    try {
      const scrape = async () => (await fetch(`${h.server.url}/metrics`)).text();
      expect(sample(await scrape(), 'countersign_slack_socket_connected')).toBe(1);
      const before = h.socket?.hellos ?? 0;
      h.socket?.disconnect('refresh_requested');
      await waitFor(() => (h.socket?.hellos ?? 0) > before, 'a new connection');
      await waitFor(
        async () => sample(await scrape(), 'countersign_slack_socket_reconnects_total') === 1,
        'the reconnect count',
      );
      expect(sample(await scrape(), 'countersign_slack_socket_connected')).toBe(1);
      expect(
        sample(await scrape(), 'countersign_slack_api_call_duration_seconds_count', {
          method: 'apps.connections.open',
          status: '200',
        }),
      ).toBe(2);
    } finally {
      await h.stop();
    }
  });
});
