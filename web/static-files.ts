// The dashboard's pages and assets, answered from memory in the tick the request arrives. A file
// streamed from disk (serveStatic) takes several turns of the event loop, and a GET /api/nodes of
// thousands of nodes asked for at the same moment (fleet.html preloads it) held the fleet page's
// script back until the list was sent: the script then started to run only after the data came.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Context, MiddlewareHandler, Next } from 'hono';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface Cached {
  mtimeMs: number;
  size: number;
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/**
 * Files read once and kept while their modification time and size stay the same (a rebuild of
 * dist/ is picked up at the next request). Answers carry an ETag and ask browsers to revalidate
 * (the names carry no content hash, so they cannot be cached for good): a reload costs a 304.
 */
export class StaticFiles {
  private readonly cache = new Map<string, Cached>();

  /** The file at `path`, or null when there is none (or it is a directory). */
  read(path: string): Cached | null {
    let stats: { mtimeMs: number; size: number; isFile(): boolean } | undefined;
    try {
      stats = statSync(path);
    } catch {
      return null;
    }
    if (!stats.isFile()) return null;
    const hit = this.cache.get(path);
    if (hit && hit.mtimeMs === stats.mtimeMs && hit.size === stats.size) return hit;
    const bytes = readFileSync(path);
    const body = new Uint8Array(bytes.byteLength);
    body.set(bytes);
    const entry = { mtimeMs: stats.mtimeMs, size: stats.size, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    this.cache.set(path, entry);
    return entry;
  }

  /** Answers GET and HEAD with the file at `path`, or 404 when it is missing. */
  file(path: string): MiddlewareHandler {
    return async (c, next) => this.answer(c, next, path);
  }

  /**
   * Answers `prefix/*` from the first of `roots` holding the rest of the path; passes on (next)
   * when none does. Paths with `..`, `.`, backslashes or empty segments are refused the same way.
   */
  under(prefix: string, roots: readonly string[]): MiddlewareHandler {
    return async (c, next) => {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
      let rest: string;
      try {
        rest = decodeURIComponent(c.req.path.slice(prefix.length));
      } catch {
        return next();
      }
      if (!rest.startsWith('/') || /(?:^|[/\\])\.{1,2}(?:$|[/\\])|[/\\]{2,}|\\|\0/.test(rest)) return next();
      for (const root of roots) {
        const path = join(root, rest);
        if (this.read(path)) return this.answer(c, next, path);
      }
      return next();
    };
  }

  private answer(c: Context, next: Next, path: string): Response | Promise<void> {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    const file = this.read(path);
    if (!file) return next();
    const headers = {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      etag: file.etag,
      'cache-control': 'no-cache',
    };
    if (c.req.header('if-none-match') === file.etag) return new Response(null, { status: 304, headers });
    return new Response(c.req.method === 'HEAD' ? null : file.body, { status: 200, headers: { ...headers, 'content-length': String(file.size) } });
  }
}
