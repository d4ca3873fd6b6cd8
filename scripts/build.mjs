// Builds what runs without TypeScript: the CLI, the single-file agent bundle for a Pi, and the
// browser bundles of the dashboard. Type checking is `npm run typecheck`; this only transpiles.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const at = (p) => new URL(p, root).pathname;
const node = { platform: 'node', format: 'esm', target: 'node20', bundle: true, sourcemap: true, logLevel: 'warning' };
// Bundled CommonJS dependencies call require(); give the ESM bundle one.
const requireShim = { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" };

// The agent's resident memory is mostly what it loads, and a Node built-in costs the node binary's
// pages it touches too (each alone in a bare node: worker_threads 1.7 MiB, node:http 2.9 MiB,
// node:tty 2.0 MiB, node:assert 1.4 MiB of RSS; together less, as they share pages).
const agentMemory = {
  name: 'agent-memory',
  setup(b) {
    // pino's transports (worker threads) are never used by the agent, which logs synchronously to
    // stderr; loading them started worker_threads.
    b.onResolve({ filter: /^thread-stream$/ }, () => ({ path: 'thread-stream', namespace: 'agent-stub' }));
    b.onLoad({ filter: /^thread-stream$/, namespace: 'agent-stub' }, () => ({
      contents: "module.exports = class ThreadStream { constructor() { throw new Error('remonitor agent: pino transports are not bundled'); } };",
      loader: 'js',
    }));
    // The `debug` package (mqtt's and mqtt-packet's trace lines, off unless DEBUG=mqttjs*) loads
    // node:tty to pick colours: 2 MiB of RSS for lines the agent never prints. A silent one instead.
    b.onResolve({ filter: /^debug$/ }, () => ({ path: 'debug', namespace: 'agent-stub' }));
    b.onLoad({ filter: /^debug$/, namespace: 'agent-stub' }, () => ({
      contents: [
        'function createDebug(namespace) { const log = () => {}; return Object.assign(log, { namespace, enabled: false, log, extend: createDebug, destroy: () => true }); }',
        "module.exports = Object.assign(createDebug, { default: createDebug, enable() {}, disable: () => '', enabled: () => false });",
      ].join('\n'),
      loader: 'js',
    }));
    // sonic-boom (pino's stderr writer) loads node:assert, 1.4 MiB of RSS, for one check.
    b.onLoad({ filter: /[\\/]sonic-boom[\\/]index\.js$/ }, (args) => {
      if (/[\\/]pino-pretty[\\/]/.test(args.path)) return undefined; // pino-pretty's own copy: loaded on a terminal only
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace("const assert = require('assert')", 'const assert = (ok, message) => { if (!ok) throw new Error(message) }');
      if (patched === source) throw new Error(`${args.path}: sonic-boom no longer loads assert as the agent build expects`);
      return { contents: patched, loader: 'js' };
    });
    // pino asks whether it runs on the main thread (to flush on exit); the agent's logger always does.
    b.onLoad({ filter: /[\\/]pino[\\/]lib[\\/]tools\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace("const { isMainThread } = require('worker_threads')", 'const isMainThread = true');
      if (patched === source) throw new Error(`${args.path}: pino no longer reads isMainThread as the agent build expects`);
      return { contents: patched, loader: 'js' };
    });
    // node:http for the containers collector's Docker socket: loaded on its first request, so an
    // agent on a machine without Docker (the collector finds no socket) never loads it.
    b.onResolve({ filter: /^node:http$/ }, (args) =>
      args.namespace !== 'agent-lazy' && args.importer.includes('/edge-agent/') ? { path: 'node:http', namespace: 'agent-lazy' } : undefined,
    );
    b.onLoad({ filter: /^node:http$/, namespace: 'agent-lazy' }, () => ({
      contents: "export function request(...args) { return require('node:http').request(...args); }",
      loader: 'js',
    }));
    // pino-pretty only on a terminal (shared/logger.ts): under systemd it is never evaluated.
    b.onResolve({ filter: /^pino-pretty$/ }, (args) => (args.namespace === 'agent-lazy' ? undefined : { path: 'pino-pretty', namespace: 'agent-lazy' }));
    b.onLoad({ filter: /^pino-pretty$/, namespace: 'agent-lazy' }, () => ({
      contents: "export default function pretty(options) { return require('pino-pretty')(options); }",
      resolveDir: at('shared'),
      loader: 'js',
    }));
  },
};

/**
 * esbuild escapes non-ASCII characters in strings, not in regular expression literals (two of
 * systeminformation's): one is enough for V8 to hold the whole 0.8 MB source as two-byte, 0.8 MiB
 * more for the life of the agent. \uXXXX means the same character in a regex, string or template.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

await Promise.all([
  // The full CLI keeps node_modules external: better-sqlite3 is native.
  build({ ...node, entryPoints: [at('cli/main.ts')], outfile: at('dist/remonitor.mjs'), packages: 'external' }),
  // The hub's SQLite writer thread (hub/threaded-sample-writer.ts starts it from this file).
  build({ ...node, entryPoints: [at('hub/sqlite-writer-thread.ts')], outfile: at('dist/hub-writer-thread.mjs'), packages: 'external' }),
  // The agent alone, every dependency inlined: runs with plain `node` and no node_modules, down to
  // the Node 18 of Raspberry Pi OS and Debian 12 (test/edge-agent/node18.test.ts runs it there).
  build({
    ...node,
    target: 'node18',
    entryPoints: [at('edge-agent/bundle-entry.ts')],
    outfile: at('dist/remonitor-agent.mjs'),
    banner: requireShim,
    minify: true,
    plugins: [agentMemory],
  }).then(() => asciiOnly(at('dist/remonitor-agent.mjs'))),
  // `remonitor record` alone, the same way: the hub serves it to CI jobs (/agent/remonitor-record.mjs).
  build({ ...node, entryPoints: [at('cli/record-entry.ts')], outfile: at('dist/remonitor-record.mjs'), banner: requireShim, minify: true }),
  build({
    entryPoints: readdirSync(at('web/client'))
      .filter((f) => /^[a-z-]+-page\.ts$/.test(f))
      .map((f) => at(`web/client/${f}`)),
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
