import type { Metrics } from './metrics.js';

/** The Slack method a Web API URL names (`chat.postMessage`), or `other` (file uploads and the like). */
export function slackMethod(url: string): string {
  const last = url.split('?')[0]?.split('/').pop() ?? '';
  return /^[a-z]+(\.[a-zA-Z]+)+$/.test(last) ? last : 'other';
}

/**
 * The fetch every Slack Web API call goes through (Bolt's clients, the outbox, identity lookups,
 * Socket Mode's apps.connections.open): it times each call and counts 429s.
 */
export function slackFetch(metrics: Metrics, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = slackMethod(url);
    const end = metrics.slackCalls.startTimer({ method });
    try {
      const res = await base(input, init);
      end({ status: String(res.status) });
      if (res.status === 429) metrics.slackRateLimited.inc({ method });
      return res;
    } catch (err) {
      end({ status: 'network_error' });
      throw err;
    }
  };
}
