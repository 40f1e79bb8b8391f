// Bundles the client side of the CLI and the client library into one file, dist/countersign.mjs
// (Node 20, no dependencies beside it), and a package of it, dist/client-package, for
// `npm pack dist/client-package` (install the .tgz by path, or publish it under your own scope).
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, 'dist', 'countersign.mjs');

await build({
  entryPoints: [join(root, 'src', 'cli', 'client-main.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'inline',
  logLevel: 'warning',
  banner: {
    // CommonJS dependencies (the MCP SDK's process spawning) require Node's built-ins at run time.
    js: [
      `// countersign ${pkg.version}: the client CLI and library in one file`,
      "import { createRequire as __countersignRequire } from 'node:module';",
      'const require = __countersignRequire(import.meta.url);',
    ].join('\n'),
  },
});
chmodSync(out, 0o755);

const dir = join(root, 'dist', 'client-package');
mkdirSync(dir, { recursive: true });
copyFileSync(out, join(dir, 'countersign.mjs'));
writeFileSync(
  join(dir, 'package.json'),
  `${JSON.stringify(
    {
      name: 'countersign',
      version: pkg.version,
      description:
        'Countersign client: the countersign request/cancel CLI and the Countersign class, in one file',
      type: 'module',
      engines: pkg.engines,
      exports: { '.': './countersign.mjs' },
      bin: { countersign: 'countersign.mjs' },
      files: ['countersign.mjs'],
    },
    null,
    2,
  )}\n`,
);
