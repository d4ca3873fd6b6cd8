// Builds what runs without TypeScript: the CLI, the single-file agent bundle for a Pi, and the
// browser bundles of the dashboard. Type checking is `npm run typecheck`; this only transpiles.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const at = (p) => new URL(p, root).pathname;
const node = { platform: 'node', format: 'esm', target: 'node20', bundle: true, sourcemap: true, logLevel: 'warning' };
// Bundled CommonJS dependencies call require(); give the ESM bundle one.
const requireShim = { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" };

await Promise.all([
  // The full CLI keeps node_modules external: better-sqlite3 is native.
  build({ ...node, entryPoints: [at('cli/main.ts')], outfile: at('dist/remonitor.mjs'), packages: 'external' }),
  // The hub's SQLite writer thread (hub/threaded-sample-writer.ts starts it from this file).
  build({ ...node, entryPoints: [at('hub/sqlite-writer-thread.ts')], outfile: at('dist/hub-writer-thread.mjs'), packages: 'external' }),
  // The agent alone, every dependency inlined: runs with plain `node` and no node_modules, down to
  // the Node 18 of Raspberry Pi OS and Debian 12 (test/edge-agent/node18.test.ts runs it there).
  build({ ...node, target: 'node18', entryPoints: [at('edge-agent/bundle-entry.ts')], outfile: at('dist/remonitor-agent.mjs'), banner: requireShim, minify: true }),
  // `remonitor record` alone, the same way: the hub serves it to CI jobs (/agent/remonitor-record.mjs).
  build({ ...node, entryPoints: [at('cli/record-entry.ts')], outfile: at('dist/remonitor-record.mjs'), banner: requireShim, minify: true }),
  build({
    entryPoints: readdirSync(at('web/client')).filter((f) => /^[a-z-]+-page\.ts$/.test(f)).map((f) => at(`web/client/${f}`)),
    outdir: at('dist/web'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  }),
]);
mkdirSync(at('dist/web'), { recursive: true });
cpSync(at('node_modules/uplot/dist/uPlot.min.css'), at('dist/web/uPlot.min.css'));
