/**
 * How the product's server process is launched (`npm start`, the Dockerfile, the systemd unit,
 * examples/replicas/run.sh), so that the bench measures the server as it runs in production.
 * test/unit/launch-settings.test.ts keeps those four places and this one the same.
 *
 * - `--max-semi-space-size=4` (MB): V8's young generation grows to 3 × 16 MB under load by
 *   default; capped at 4 MB the RSS peak under intake fell from 219–234 MB to 149–184 MB with no
 *   measured loss of throughput (BENCHMARKS.md, "Memory").
 * - `MALLOC_ARENA_MAX=2`: glibc's default of 8 arenas per core lets the libuv and V8 threads each
 *   keep their own free memory.
 * - `MALLOC_TRIM_THRESHOLD_=131072`: fixes the trim and mmap thresholds, so large native buffers
 *   (SQLite statements, TLS, zlib) go back to the system when freed instead of staying in the heap.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];
export const SERVER_ENV: Record<string, string> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
