// Pages and assets answered from memory (web/static-files.ts), over real HTTP: the bytes and type,
// ETag revalidation, a rebuilt file picked up, the second root as a fallback, HEAD, and paths that
// climb out of a root refused.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type WebServer } from '../../web/server.ts';
import { StaticFiles } from '../../web/static-files.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

let web: WebServer;
let base: string;
let built: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir('static-files-');
  built = join(dir, 'built');
  const pub = join(dir, 'public');
  mkdirSync(built);
  mkdirSync(pub);
  writeFileSync(join(built, 'page.js'), 'console.log("built");');
  writeFileSync(join(pub, 'page.js'), 'console.log("public copy, never served");');
  writeFileSync(join(pub, 'style.css'), 'body { color: red }');
  writeFileSync(join(pub, 'index.html'), '<!doctype html><p>hello</p>');
  writeFileSync(join(dir, 'secret.txt'), 'outside both roots');
  const files = new StaticFiles();
  const app = new Hono();
  app.get('/', files.file(join(pub, 'index.html')));
  app.get('/gone', files.file(join(pub, 'missing.html')));
  app.use('/assets/*', files.under('/assets', [built, pub]));
  app.all('*', (c) => c.text('fell through', 404));
  web = await listen(app, 0);
  base = `http://127.0.0.1:${web.port}`;
});

afterAll(async () => {
  await web?.close();
});

describe('StaticFiles', () => {
  it('answers a page and an asset with their type, length and an ETag that asks for revalidation', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toBe('<!doctype html><p>hello</p>');
    const css = await fetch(`${base}/assets/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('content-length')).toBe(String('body { color: red }'.length));
    expect(css.headers.get('etag')).toMatch(/^"[\w-]+"$/);
  });

  it('takes a file from the first root that has it', async () => {
    const js = await fetch(`${base}/assets/page.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log("built");');
  });

  it('answers 304 to the ETag it gave, and the new bytes once the file was rewritten', async () => {
    const first = await fetch(`${base}/assets/page.js`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${base}/assets/page.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    writeFileSync(join(built, 'page.js'), 'console.log("rebuilt");');
    utimesSync(join(built, 'page.js'), new Date(), new Date(Date.now() + 5000)); // a later mtime, whatever the clock's resolution
    const rebuilt = await fetch(`${base}/assets/page.js`, { headers: { 'if-none-match': etag } });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.headers.get('etag')).not.toBe(etag);
    expect(await rebuilt.text()).toBe('console.log("rebuilt");');
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await fetch(`${base}/assets/style.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String('body { color: red }'.length));
    expect(await head.text()).toBe('');
  });

  it('passes on what it does not have, and paths that climb out of a root', async () => {
    for (const path of [
      '/assets/nothing.js',
      '/assets/',
      '/gone',
      '/assets/..%2Fsecret.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets//page.js',
      '/assets/%5C..%5Csecret.txt',
    ]) {
      const res = await fetch(`${base}${path}`);
      expect({ path, status: res.status, body: await res.text() }).toEqual({ path, status: 404, body: 'fell through' });
    }
  });
});
