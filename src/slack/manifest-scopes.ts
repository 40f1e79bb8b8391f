import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../store/package-root.js';

/** The bot scopes the app's manifest asks for (what the code needs; both manifests ask the same). */
export function manifestBotScopes(path = join(packageRoot(), 'manifest.yml')): string[] {
  const manifest = parse(readFileSync(path, 'utf8')) as { oauth_config?: { scopes?: { bot?: unknown } } };
  const bot = manifest.oauth_config?.scopes?.bot;
  if (!Array.isArray(bot) || !bot.every((s) => typeof s === 'string')) {
    throw new Error(`${path}: oauth_config.scopes.bot is not a list of scopes`);
  }
  return bot;
}
