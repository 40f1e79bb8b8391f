import { SlackEmulator } from '../src/sandbox/slack-emulator.js';
import { seedWorkspace } from '../test/support/harness.js';
import { reportStartFailure, serveChild } from './lib/child.js';

/**
 * The fake Slack Web API in a process of its own, for the load benches (its work must not delay the
 * load generator's clock). It knows the people and the approvals channel of the test workspace, so
 * clicks resolve and the server's start-up checks pass.
 */
try {
  const slack = await new SlackEmulator().start();
  seedWorkspace(slack);
  const rate = Number(process.env.BENCH_SLACK_RATE ?? '');
  if (rate > 0) slack.postsPerSecondPerChannel = rate;
  // The fake records every call with its arguments; under load only the counts matter here.
  let calls = 0;
  const trim = setInterval(() => {
    calls += slack.calls.length;
    slack.calls.length = 0;
  }, 1000);
  trim.unref();
  serveChild({
    url: slack.url,
    collect: () => ({
      calls: calls + slack.calls.length,
      messages: slack.messages.length,
      cards: slack.messages.filter((m) => !m.thread_ts).length,
      rss: process.memoryUsage().rss,
    }),
    stop: async () => {
      clearInterval(trim);
      await slack.stop();
    },
  });
} catch (err) {
  reportStartFailure(err);
}
