import { readFileSync } from 'node:fs';

/** Reads a file, or standard input for `-` (or when no file is given and stdin is not a terminal). */
export async function readInput(file: string | undefined): Promise<{ text: string; name: string } | null> {
  if (file !== undefined && file !== '-') return { text: readFileSync(file, 'utf8'), name: file };
  if (file === undefined && process.stdin.isTTY) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return { text: Buffer.concat(chunks).toString('utf8'), name: '(stdin)' };
}

/** Loads `.env` from the working folder when present (the environment wins). */
export function loadDotEnv(): void {
  try {
    process.loadEnvFile('.env');
  } catch {
    // no .env: the environment alone configures the command
  }
}
