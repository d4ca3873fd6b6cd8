// Builds what runs without TypeScript: the CLI, the single-file agent bundle for a Pi, and the
// browser bundles of the dashboard. Type checking is `npm run typecheck`; this only transpiles.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';

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
    // cbor-x tries its native decoder (cbor-extract) at load: node-gyp-build looks for the addon,
    // loading node:child_process and more for a file the bundle cannot ship. The agent decodes
    // only small acks and commands, so cbor-x's own JavaScript decoder is all it needs.
    b.onResolve({ filter: /^cbor-extract$/ }, () => ({ path: 'cbor-extract', namespace: 'agent-stub' }));
    b.onLoad({ filter: /^cbor-extract$/, namespace: 'agent-stub' }, () => ({ contents: 'module.exports = undefined;', loader: 'js' }));
    // readable-stream (mqtt's and bl's streams) is a copy of node:stream, which the agent loads
    // anyway for its socket: the copy is 78 KB of source and its classes, held for nothing.
    b.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'readable-stream', namespace: 'agent-stub' }));
    b.onLoad({ filter: /^readable-stream$/, namespace: 'agent-stub' }, () => ({ contents: "module.exports = require('node:stream');", loader: 'js' }));
    // mqtt's worker-timers (and its helpers) serve browsers only: under Node it takes setInterval.
    b.onResolve({ filter: /^worker-timers$/ }, () => ({ path: 'worker-timers', namespace: 'agent-stub' }));
    b.onLoad({ filter: /^worker-timers$/, namespace: 'agent-stub' }, () => ({
      contents: [
        "const browserOnly = () => { throw new Error('remonitor agent: worker timers are not bundled'); };",
        'module.exports = { setInterval: browserOnly, clearInterval: browserOnly };',
      ].join('\n'),
      loader: 'js',
    }));
    // lru-cache (mqtt's topic aliases) reads the global `performance` at load, which loads
    // node:perf_hooks (0.5 MiB of RSS); it needs the clock only for entries with a TTL, which mqtt
    // never sets. The same clock, read when first asked for.
    b.onLoad({ filter: /[\\/]lru-cache[\\/]dist[\\/]commonjs[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = /const perf = typeof performance === 'object' &&\s+performance &&\s+typeof performance\.now === 'function'\s+\? performance\s+: Date;/;
      if (!eager.test(source)) throw new Error(`${args.path}: lru-cache no longer reads performance as the agent build expects`);
      return { contents: source.replace(eager, 'const perf = { now: () => performance.now() };'), loader: 'js' };
    });
    // valibot's format regexes are module constants; esbuild writes its Unicode-property one (emoji)
    // as `new RegExp(...)`, which it then keeps though nothing uses it, and V8 parses a /u pattern
    // where it is made: \p{Emoji} loads ICU's property data, 0.6 MiB of RSS. Each constant as a pure
    // call, so the unused ones go and the used ones are made as before.
    b.onLoad({ filter: /[\\/]valibot[\\/]dist[\\/]index\.mjs$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace(/^const (\w+_REGEX) = (\/.*\/[a-z]*);$/gm, 'const $1 = /* @__PURE__ */ (() => $2)();');
      if (!/const EMOJI_REGEX = \/\* @__PURE__ \*\//.test(patched))
        throw new Error(`${args.path}: valibot's regexes are no longer the constants the agent build expects`);
      return { contents: patched, loader: 'js' };
    });
    // package.json files (mqtt's, ours) are read for their version alone: the rest is source V8 holds.
    b.onLoad({ filter: /[\\/]package\.json$/ }, (args) => ({
      contents: JSON.stringify({ version: JSON.parse(readFileSync(args.path, 'utf8')).version }),
      loader: 'json',
    }));
    // pino itself: the agent logs JSON lines at a few levels, and pino's modules (redaction,
    // serializers, sonic-boom, exit hooks) held 0.3 MiB of its resident memory for the rest.
    // edge-agent/json-lines-logger.ts writes the same lines; the CLI's agent keeps pino.
    b.onResolve({ filter: /^pino$/ }, (args) =>
      /[\\/]shared[\\/]logger\.ts$/.test(args.importer) ? { path: at('edge-agent/json-lines-logger.ts') } : undefined,
    );
    // node:module (0.1 MiB of RSS: it loads the ES module loader's parts) only when createRequire is
    // called: cbor-x and edge-agent/crc32.ts import it at load, and the bundle's require serves both.
    b.onResolve({ filter: /^(node:)?module$/ }, (args) =>
      args.namespace !== 'agent-lazy' && args.kind === 'import-statement' ? { path: 'node:module', namespace: 'agent-lazy' } : undefined,
    );
    b.onLoad({ filter: /^node:module$/, namespace: 'agent-lazy' }, () => ({
      contents: "export function createRequire(...args) { return require('node:module').createRequire(...args); }",
      loader: 'js',
    }));
    // pino-pretty only on a terminal (shared/logger.ts), and systeminformation only in the birth
    // record's child or off Linux: both from the cold parts, compiled when first asked for.
    b.onResolve({ filter: /^pino-pretty$/ }, () => ({ path: 'pino-pretty', namespace: 'agent-cold' }));
    b.onLoad({ filter: /^pino-pretty$/, namespace: 'agent-cold' }, () => ({
      contents: "import { coldParts } from 'cold-parts'; export default function pretty(options) { return coldParts().pretty(options); }",
      loader: 'js',
    }));
    b.onResolve({ filter: /[\\/]systeminformation\.ts$/ }, (args) =>
      args.namespace === 'file' ? { path: 'systeminformation', namespace: 'agent-cold' } : undefined,
    );
    b.onLoad({ filter: /^systeminformation$/, namespace: 'agent-cold' }, () => ({
      contents: "module.exports = require('cold-parts').coldParts().systeminformation;",
      loader: 'js',
    }));
    // mqtt's WebSocket and SOCKS transports: loaded by mqtt.connect (mqtts, ws, wss, a proxy), never
    // for a plain mqtt:// broker (edge-agent/mqtt-connect.ts).
    for (const name of ['ws', 'socks']) {
      b.onResolve({ filter: new RegExp(`^${name}$`) }, () => ({ path: name, namespace: 'agent-cold' }));
      b.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'agent-cold' }, () => ({
        contents: `module.exports = require('cold-parts').coldTransports().${name};`,
        loader: 'js',
      }));
    }
    b.onResolve({ filter: /^cold-parts$/, namespace: 'agent-cold' }, () => ({ path: 'cold-parts', namespace: 'agent-cold' }));
    b.onLoad({ filter: /^cold-parts$/, namespace: 'agent-cold' }, async () => {
      const [parts, transports] = await Promise.all([
        coldSource({ entryPoints: [at('edge-agent/cold-parts.ts')] }),
        coldSource({ stdin: { contents: "exports.ws = require('ws'); exports.socks = require('socks');", resolveDir: at('edge-agent'), loader: 'js' } }),
      ]);
      return {
        contents: [
          '/**',
          ' * Compiles a Brotli-compressed CommonJS source once and gives its exports. The source is the',
          ' * text of a function never called: read from the script V8 holds anyway, where a string',
          ' * literal would be a second copy of it in the heap for the life of the agent.',
          ' */',
          'function cold(carrier) {',
          '  let exports;',
          '  return () => {',
          '    if (!exports) {',
          '      const text = carrier.toString();',
          "      const compressed = Buffer.from(/[A-Za-z0-9+/=]{64,}/.exec(text)[0], 'base64');",
          '      const module = { exports: {} };',
          "      new Function('require', 'module', 'exports', require('node:zlib').brotliDecompressSync(compressed).toString('utf8'))(require, module, module.exports);",
          '      exports = module.exports;',
          '    }',
          '    return exports;',
          '  };',
          '}',
          `export const coldParts = cold(() => ${JSON.stringify(parts)});`,
          `export const coldTransports = cold(() => ${JSON.stringify(transports)});`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/** A cold part of the agent bundle as CommonJS source, for the bundle to carry compressed (agentMemory). */
async function coldSource(entry) {
  const result = await build({ ...node, ...entry, format: 'cjs', target: 'node18', write: false, outfile: 'cold.cjs', sourcemap: false, minify: true });
  return brotliCompressSync(result.outputFiles[0].text, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
}

/**
 * The agent bundle's wrapper: CommonJS passes its own require; an ES module (no import statement,
 * which CommonJS could not parse) gets one from node:module. Either way the bundle's code runs
 * strict, as the ES modules it is built from did. __agentFile: the bundle's path, for createRequire.
 */
const dualModule = {
  banner: [
    '(function (main) {',
    "  if (typeof require === 'function') main(require, __filename);",
    "  else import('node:module').then((m) => main(m.createRequire(process.argv[1]), process.argv[1]));",
    "})(function (require, __agentFile) { 'use strict';",
  ].join('\n'),
  footer: '});',
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

const browser = { outdir: at('dist/web'), bundle: true, format: 'esm', target: 'es2022', minify: true, sourcemap: true, logLevel: 'warning' };

/**
 * The fleet page on its own, split: its cards view (web/client/fleet-cards.ts, with uPlot) is a
 * chunk loaded when the view is first shown, so the table view runs half the script. The code both
 * use is a chunk of fixed name that fleet.html preloads beside the page's script, so it does not
 * wait for the script to be parsed. Alone in its build, so that no other page (the login page's
 * assets are public) imports a chunk of it.
 */
async function buildFleetPage() {
  const result = await build({
    ...browser,
    entryPoints: [at('web/client/fleet-page.ts')],
    splitting: true,
    chunkNames: 'fleet-page-[name]',
    metafile: true,
  });
  const expected = ['fleet-page.js', 'fleet-page-chunk.js', 'fleet-page-fleet-cards.js'];
  const written = Object.keys(result.metafile.outputs)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(f.lastIndexOf('/') + 1))
    .sort();
  if (written.join() !== [...expected].sort().join()) throw new Error(`fleet page: built ${written.join(', ')}, fleet.html expects ${expected.join(', ')}`);
}

await Promise.all([
  // The full CLI keeps node_modules external: better-sqlite3 is native.
  build({ ...node, entryPoints: [at('cli/main.ts')], outfile: at('dist/remonitor.mjs'), packages: 'external' }),
  // The hub's SQLite writer thread (hub/storage/sqlite/threaded-sample-writer.ts starts it from this file).
  build({ ...node, entryPoints: [at('hub/storage/sqlite/sqlite-writer-thread.ts')], outfile: at('dist/hub-writer-thread.mjs'), packages: 'external' }),
  // The PostgreSQL store's chunk codec thread (hub/storage/postgres/pg-chunk-worker.ts starts it from this file).
  build({ ...node, entryPoints: [at('hub/storage/postgres/pg-chunk-thread.ts')], outfile: at('dist/pg-chunk-thread.mjs'), packages: 'external' }),
  // The agent alone, every dependency inlined: runs with plain `node` and no node_modules, down to
  // the Node 18 of Raspberry Pi OS and Debian 12 (test/edge-agent/node18.test.ts runs it there).
  // It is written as CommonJS wrapped to run as either kind of module: as an ES module under its
  // .mjs name (the hub serves it so, and people run it so), and as CommonJS where the unit runs it
  // (installed as remonitor-agent.cjs): an ES module entry loads Node's ES module loader, 1.8 MiB
  // of resident memory (fs/promises, readline, the loader's own modules) for the life of the agent.
  build({
    ...node,
    format: 'cjs',
    target: 'node18',
    entryPoints: [at('edge-agent/bundle-entry.ts')],
    outfile: at('dist/remonitor-agent.mjs'),
    banner: { js: dualModule.banner },
    footer: { js: dualModule.footer },
    define: { 'import.meta.url': '__agentFile' },
    minify: true,
    plugins: [agentMemory],
  }).then(() => asciiOnly(at('dist/remonitor-agent.mjs'))),
  // `remonitor record` alone, the same way: the hub serves it to CI jobs (/agent/remonitor-record.mjs).
  build({ ...node, entryPoints: [at('cli/record-entry.ts')], outfile: at('dist/remonitor-record.mjs'), banner: requireShim, minify: true }),
  build({
    ...browser,
    entryPoints: readdirSync(at('web/client'))
      .filter((f) => /^[a-z-]+-page\.ts$/.test(f) && f !== 'fleet-page.ts')
      .map((f) => at(`web/client/${f}`)),
  }),
  buildFleetPage(),
]);
mkdirSync(at('dist/web'), { recursive: true });
cpSync(at('node_modules/uplot/dist/uPlot.min.css'), at('dist/web/uPlot.min.css'));
