// The fleet card's clock flag in a real browser (Debian chromium): a node whose clock is three days
// behind shows it on its card from /api/nodes, and loses it from the live stream once its clock is
// right; a node that says its clock is not synchronised (clock_synchronized 0) is flagged before
// its clock drifts, and unflagged from the stream once synchronised. Real broker and hub; the
// nodes are plain MQTT clients publishing samples.
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSample, topics, type Sample } from '../../protocol/index.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { cleanup, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('the fleet card', () => {
  it('says when a node’s clock is off, and stops saying it when it is right', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url, undefined, { alarms: false });
    const node = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => node.endAsync());
    const send = (seq: number, ts: number) => {
      const s: Sample = { v: 1, boot: 'b-skewed', seq, ts_ms: ts, cpu_pct: 20, mem_pct: 30 };
      return node.publishAsync(topics.metrics('pi-skewed'), Buffer.from(encodeSample(s)), { qos: 1 });
    };
    await node.publishAsync(topics.status('pi-skewed'), 'online', { qos: 1, retain: true });
    await send(0, Date.now() - 3 * 86_400_000);
    await waitFor('the skewed sample stored', () => hub.ingest.stats.stored === 1);

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${api}/`);
    const flag = page.locator('a.card[data-node="pi-skewed"] [data-field="clock-skew"]');
    await flag.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await flag.textContent()).toMatch(/clock 3 d 0 h behind/);
    expect(await page.locator('a.card[data-node="pi-skewed"] [data-field="last-seen"]').textContent()).not.toMatch(/\bd\b/); // seen just now, not 3 days ago

    // Set right: the next live sample clears the flag through the stream, without a reload.
    await send(1, Date.now());
    await flag.waitFor({ state: 'hidden', timeout: 15_000 });
    expect(errors).toEqual([]);
  });

  it('says when a node’s clock is not synchronised, from the node’s own word, before it drifts', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url, undefined, { alarms: false });
    const node = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => node.endAsync());
    const send = (seq: number, synchronized: 0 | 1) => {
      const s: Sample = {
        v: 1,
        boot: 'b-ntp',
        seq,
        ts_ms: Date.now(),
        cpu_pct: 20,
        mem_pct: 30,
        series: [{ name: 'clock_synchronized', labels: {}, value: synchronized }],
      };
      return node.publishAsync(topics.metrics('pi-ntp'), Buffer.from(encodeSample(s)), { qos: 1 });
    };
    await node.publishAsync(topics.status('pi-ntp'), 'online', { qos: 1, retain: true });
    await send(0, 0);
    await waitFor('the unsynchronised sample stored', () => hub.ingest.stats.stored === 1);
    const listed = await (await fetch(`${api}/api/nodes?fields=fleet`)).json();
    expect(listed.nodes[0]).toMatchObject({ name: 'pi-ntp', clock_synchronized: false });

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${api}/?view=cards`);
    const flag = page.locator('a.card[data-node="pi-ntp"] [data-field="clock-skew"]');
    await flag.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await flag.textContent()).toBe('⚠ clock not synchronised');
    expect(await flag.getAttribute('title')).toMatch(/not synchronised \(NTP\)/);

    // Synchronised: the next live sample clears the flag through the stream, without a reload.
    await send(1, 1);
    await flag.waitFor({ state: 'hidden', timeout: 15_000 });
    expect(errors).toEqual([]);
  });
});
