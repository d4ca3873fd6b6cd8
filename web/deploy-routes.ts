// The one-line join: GET /install.sh (deploy/install-agent.sh with this hub's address filled in
// as the default), GET /agent/remonitor-agent.mjs (the single-file agent bundle) and
// GET /agent/remonitor-agent.sh (the agent without Node.js, for install.sh --shell); and
// GET /agent/remonitor-record.mjs, `remonitor record` as one file for CI jobs.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

// Both resolve from web/ (sources) and from dist/ (the built CLI), which sit side by side.
export const INSTALL_SCRIPT = fileURLToPath(new URL('../deploy/install-agent.sh', import.meta.url));
export const AGENT_BUNDLE = fileURLToPath(new URL('../dist/remonitor-agent.mjs', import.meta.url));
export const RECORD_BUNDLE = fileURLToPath(new URL('../dist/remonitor-record.mjs', import.meta.url));
export const SHELL_AGENT = fileURLToPath(new URL('../deploy/remonitor-agent.sh', import.meta.url));

export interface DeployRouteOptions {
  /** The broker the hub itself uses; loopback hosts are replaced by the host the browser used. */
  brokerUrl?: string;
  /** The broker URL nodes should use, when it differs from the hub's own (a loopback host is again the browser's). */
  publicBrokerUrl?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '']);
// A host as it may appear in a URL: name, IPv4, or bracketed IPv6. Anything else is refused
// rather than written into a shell script.
const SAFE_HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;

/** The broker URL a node should use, seen from a browser that reached the hub as `requestHost`. */
export function brokerForNodes(options: DeployRouteOptions, requestHost: string): string {
  const url = new URL(options.publicBrokerUrl ?? options.brokerUrl ?? 'mqtt://127.0.0.1:1883');
  if (LOOPBACK.has(url.hostname)) url.hostname = requestHost;
  return url.toString().replace(/\/$/, '');
}

/** Replaces the defaults of the install script; values are checked to be shell-safe first. */
export function fillInstallScript(script: string, hubUrl: string, brokerUrl: string): string {
  for (const [name, value] of [
    ['hub URL', hubUrl],
    ['broker URL', brokerUrl],
  ] as const) {
    if (!/^[A-Za-z0-9+.:/[\]_-]+$/.test(value)) throw new TypeError(`${name} ${JSON.stringify(value)} has characters not allowed in the install script`);
  }
  return script.replace(/^DEFAULT_HUB_URL=.*$/m, `DEFAULT_HUB_URL='${hubUrl}'`).replace(/^DEFAULT_BROKER_URL=.*$/m, `DEFAULT_BROKER_URL='${brokerUrl}'`);
}

export function deployRoutes(options: DeployRouteOptions = {}): Hono {
  const app = new Hono();

  app.get('/install.sh', async (c) => {
    const url = new URL(c.req.url);
    if (!SAFE_HOST.test(url.hostname)) return c.text(`# refused: Host header ${JSON.stringify(url.hostname)} is not a host name\n`, 400);
    const script = await readFile(INSTALL_SCRIPT, 'utf8');
    const filled = fillInstallScript(script, url.origin, brokerForNodes(options, url.hostname));
    return c.body(filled, 200, { 'content-type': 'text/x-shellscript; charset=utf-8', 'cache-control': 'no-store' });
  });

  // None holds a secret (route-roles.ts makes them public): a Pi or a CI job fetches them with curl.
  const files = [
    ['/agent/remonitor-agent.mjs', AGENT_BUNDLE, 'agent', 'text/javascript'],
    ['/agent/remonitor-record.mjs', RECORD_BUNDLE, 'record', 'text/javascript'],
    ['/agent/remonitor-agent.sh', SHELL_AGENT, 'shell agent', 'text/x-shellscript'],
  ] as const;
  for (const [path, file, what, type] of files) {
    app.get(path, async (c) => {
      let bundle: Buffer;
      try {
        bundle = await readFile(file);
      } catch {
        return c.text(`the ${what} bundle ${file} is missing: run \`npm run build\` on the hub\n`, 404);
      }
      return c.body(new Uint8Array(bundle), 200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
    });
  }
  return app;
}
