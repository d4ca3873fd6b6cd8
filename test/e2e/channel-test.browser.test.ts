// The alarms page's "Send a test" in a real browser (Debian chromium) against a real hub (no
// logins: loopback only) and a fake ntfy service on 127.0.0.1: the message arrives, and a bad URL
// or a refusing service shows why.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from '../helpers/browser.ts';
import { cleanup, runCleanups, startBroker, startHub } from '../helpers/parts.ts';

afterEach(runCleanups);

/** A fake ntfy server: 200 for topic `ok`, 403 with ntfy's error body for any other. */
async function fakeNtfy(): Promise<{ host: string; topics: string[] }> {
  const topics: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      topics.push(req.url ?? '');
      if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1"}');
      else res.writeHead(403, { 'content-type': 'application/json' }).end('{"code":40301,"error":"forbidden"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, topics };
}

describe('alarms page', () => {
  it('sends a test notification and shows why one failed', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const ntfy = await fakeNtfy();
    const browser = await launchBrowser();
    const { page, errors } = await openPage(browser);
    await page.goto(`${api}/alarms`);
    const result = page.locator('#channel-result');
    const send = async (channel: string, expected: RegExp) => {
      await page.fill('#channel-url', channel);
      await page.click('#channel-test button[type="submit"]');
      await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('channel-result')?.textContent ?? ''), expected.source, {
        timeout: 10_000,
      });
    };
    await send(`ntfy://${ntfy.host}/ok?scheme=http`, /^Sent/);
    expect(ntfy.topics).toEqual(['/ok']);
    await send(
      `ntfy://${ntfy.host}/locked?scheme=http`,
      /^Not sent: the test notification to ntfy:\/\/127\.0\.0\.1:\d+\/… failed: HTTP 403 Forbidden: \{"code":40301,"error":"forbidden"\}$/,
    );
    await send('telegram://api.telegram.org', /^Not sent: url: the bot token goes before the host/);
    expect(await result.textContent()).toMatch(/chats= must list at least one chat id/);
    // The refused requests' statuses are logged by the browser itself; nothing else may be.
    expect(errors.filter((e) => !/^Failed to load resource: the server responded with a status of (400|502)/.test(e))).toEqual([]);
  }, 60_000);
});
