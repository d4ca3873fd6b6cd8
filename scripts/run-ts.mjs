// Runs a TypeScript entry point with plain Node: bundles it with esbuild (types stripped, not
// checked; that is `npm run typecheck`), then imports the bundle with the remaining arguments.
//   node scripts/run-ts.mjs bench/agent-cost.ts [args…]
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) throw new TypeError('usage: node scripts/run-ts.mjs <entry.ts> [args…]');
// Into dist/, beside the built CLI: bare imports resolve to this project's node_modules, and paths
// the code takes from import.meta.url (migrations, web assets) resolve as they do for the CLI.
const outdir = new URL('../dist/', import.meta.url).pathname;
mkdirSync(outdir, { recursive: true });
const outfile = resolve(outdir, `run-${basename(entry).replace(/\.ts$/, '')}.mjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.argv = [process.argv[0], resolve(entry), ...args];
await import(pathToFileURL(outfile).href);
