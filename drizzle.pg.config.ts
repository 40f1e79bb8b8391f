import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL migrations (`drizzle/pg`); SQLite's stay in `drizzle/` (drizzle.config.ts). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema-pg.ts',
  out: './drizzle/pg',
});
