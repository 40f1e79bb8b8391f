import { defineConfig } from 'vitest/config';

/**
 * The Slack component tests: they run twice, once with Slack reaching the server over HTTP
 * (`/slack/events`) and once over Socket Mode (project `socket-mode`, through the emulator's
 * WebSocket). The harness reads COUNTERSIGN_TEST_SLACK_MODE; other projects can set their own
 * variables (a store, say) the same way.
 */
export const SLACK_COMPONENT_TESTS = [
  'test/component/cards.test.ts',
  'test/component/commands.test.ts',
  'test/component/home.test.ts',
  'test/component/policy.test.ts',
  'test/component/review-rules.test.ts',
  'test/component/restart.test.ts',
  'test/component/spine.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'http', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'socket-mode',
          include: SLACK_COMPONENT_TESTS,
          env: { COUNTERSIGN_TEST_SLACK_MODE: 'socket' },
        },
      },
    ],
  },
});
