/**
 * The configuration cannot be used; `problems` names each thing to fix. In a module of its own so
 * that the CLI can recognise it without loading the configuration's schema (zod, node-cron) for
 * commands that never read it.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Countersign cannot start; fix the configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
