import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../../bench/lib/server-launch.js';

/**
 * The server's memory settings (V8 flag, glibc malloc variables) are the same wherever the product
 * is launched, and the bench launches its server the same way, so that its memory figures are the
 * ones an operator gets.
 */
const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const launchers: Record<string, string> = {
  'npm start': (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    .start as string,
  Dockerfile: read('Dockerfile'),
  'the systemd unit': read('deploy/countersign.service'),
  'examples/replicas/run.sh': read('examples/replicas/run.sh'),
};

describe('launch settings', () => {
  for (const [where, text] of Object.entries(launchers)) {
    it(`${where} starts node with the bench's flags and malloc settings`, () => {
      const nodeLine = text
        .split('\n')
        .find((l) => /node\b.*dist\/src\/main\.js/.test(l) && !l.trim().startsWith('#'));
      expect(nodeLine, `no line of ${where} starts dist/src/main.js`).toBeDefined();
      for (const flag of SERVER_NODE_FLAGS) expect(nodeLine).toContain(flag);
      for (const [name, value] of Object.entries(SERVER_ENV)) {
        expect(text).toMatch(new RegExp(`${name}=(\\$\\{${name}:-)?${value}\\b`));
      }
    });
  }
});
