// drizzle-kit writes `"public".` before the tables a foreign key references; Countersign's
// PostgreSQL tables live in the connection's current schema (search_path), so that prefix is
// removed from the generated migrations (run by `npm run db:generate`).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const folder = join(import.meta.dirname, '..', 'drizzle', 'pg');
for (const name of readdirSync(folder).filter((f) => f.endsWith('.sql'))) {
  const path = join(folder, name);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replaceAll('"public".', '');
  if (fixed !== text) writeFileSync(path, fixed);
}
