/**
 * Keeps the sandbox's emulated workspace (messages, files, Home tabs) in its data folder, so a
 * restart shows the same channel and the server can still update the cards it posted before.
 */

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SlackEmulator, WorkspaceState } from './slack-emulator.js';

export interface WorkspaceFile {
  /** Writes any pending change now and stops watching. */
  close(): void;
}

export function keepWorkspace(slack: SlackEmulator, path: string): WorkspaceFile {
  if (existsSync(path)) {
    let state: WorkspaceState;
    try {
      state = JSON.parse(readFileSync(path, 'utf8')) as WorkspaceState;
    } catch (err) {
      throw new Error(
        `${path} is not readable JSON (${(err as Error).message}); delete it to start with an empty channel`,
      );
    }
    slack.importState(state);
  }
  let timer: NodeJS.Timeout | null = null;
  const write = () => {
    timer = null;
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(slack.exportState()), { mode: 0o600 });
    renameSync(tmp, path);
  };
  const off = slack.onChange((e) => {
    if (e.kind === 'message' || e.kind === 'file' || e.kind === 'home') timer ??= setTimeout(write, 100);
  });
  return {
    close() {
      off();
      if (timer !== null) {
        clearTimeout(timer);
        write();
      }
    },
  };
}
