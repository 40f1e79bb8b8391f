import { openSqliteStore } from '../src/store/sqlite-store.js';
import { HOUR, Seeder } from './lib/seed.js';

/**
 * Fills a new database with a history before a bench starts the server on it: SEED_REQUESTS
 * requests (1 in 100 pending, due in a day; the rest approved, made over the last 30 days) and as
 * many delivered outbox rows, straight into the tables in large transactions (`Seeder`), in a
 * process of its own so the bench's heap and event loop stay as they were. Exits 0 when done and
 * prints the figures as one JSON line.
 */
const path = process.env.SEED_DATABASE ?? '';
const count = Number(process.env.SEED_REQUESTS ?? '0');
if (path === '' || !Number.isSafeInteger(count) || count < 0) {
  process.stderr.write('seed-child: SEED_DATABASE and SEED_REQUESTS are required\n');
  process.exit(4);
}
const started = performance.now();
const database = openSqliteStore(path);
const now = Date.now();
const seeder = await Seeder.create(database, path, now);
// A throwaway file being filled: no journal and no fsync while seeding (the server opens it in WAL).
database.sqlite.pragma('journal_mode = OFF');
database.sqlite.pragma('synchronous = OFF');
database.sqlite.pragma('cache_size = -262144');
const pending = Math.floor(count / 100);
const decided = count - pending;
const month = 30 * 24 * HOUR;
if (decided > 0)
  seeder.requests(
    decided,
    { createdAt: now - month, stepMs: month / decided, expiresAt: now - month + HOUR, status: 'approved' },
    'old',
  );
if (pending > 0)
  seeder.requests(
    pending,
    { createdAt: now - HOUR, stepMs: HOUR / pending, expiresAt: now + 24 * HOUR },
    'pending',
  );
seeder.deliveredOutbox(count, now - month);
database.sqlite.pragma('journal_mode = WAL');
await database.close();
process.stdout.write(`${JSON.stringify({ requests: count, ms: performance.now() - started })}\n`);
