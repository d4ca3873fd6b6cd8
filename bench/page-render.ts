// The fleet page with 1,000 nodes in headless Chromium: time until every card is on the page, then
// responsiveness while every node sends a sample each second (long tasks over 50 ms, frames).
// Run: node scripts/run-ts.mjs bench/page-render.ts [--nodes 1000] [--live 10s]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { LiveFeed } from '../hub/live-feed.ts';
import { toPoint } from '../hub/storage/sample-point.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { encodeInfo, encodeSample, parseDuration } from '../protocol/index.ts';
import { createApp } from '../web/app.ts';
import { listen } from '../web/server.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000' }, live: { type: 'string', default: '10s' } } });
const nodes = Number(values.nodes);
const liveMs = parseDuration(values.live)!;

const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-page-'));
const store = openSqliteStore(join(dir, 'page.db'));
const fleet = Array.from({ length: nodes }, (_, i) => new SimulatedNode(`node-${String(i).padStart(4, '0')}`, i + 1));
const now = Date.now();
for (let step = 60; step >= 0; step -= 5) {
  store.insertBatch(
    fleet.map((n) => {
      const sample = n.next(now - step * 1000);
      return { node: n.name, sample, raw: encodeSample(sample) };
    }),
  );
}
for (const n of fleet) {
  store.setStatus(n.name, Math.random() < 0.95 ? 'online' : 'offline', now);
  store.setInfo(n.name, encodeInfo(n.info(1000)));
}
const feed = new LiveFeed();
const web = await listen(createApp({ store, feed }), 0);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.addInitScript(() => {
    (window as any).__long = [];
    new PerformanceObserver((list) => (window as any).__long.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask', buffered: true });
  });
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${web.port}/?view=cards`); // the cards view: bench/fleet-page.ts measures the table
  await page.waitForFunction((n) => document.querySelectorAll('a.card[data-node]').length === n, nodes, { timeout: 30_000 });
  const renderMs = Date.now() - t0;
  await page.evaluate(() => ((window as any).__long = []));

  // Live: every node sends a sample each second, spread over the second as a fleet does.
  const started = Date.now();
  let sent = 0;
  let tick = 0;
  const slice = Math.ceil(nodes / 10);
  const timer = setInterval(() => {
    const ts = Date.now();
    const from = (tick++ % 10) * slice;
    for (const n of fleet.slice(from, from + slice)) {
      const sample = n.next(ts);
      feed.publish({ type: 'sample', node: n.name, point: toPoint(sample) });
    }
    sent += Math.min(slice, nodes - from);
  }, 100);
  const frames = await page.evaluate(
    (ms) =>
      new Promise<number>((resolve) => {
        let count = 0;
        const end = performance.now() + ms;
        const tick = () => (performance.now() < end ? (count++, requestAnimationFrame(tick)) : resolve(count));
        requestAnimationFrame(tick);
      }),
    liveMs,
  );
  clearInterval(timer);
  const longTasks: number[] = await page.evaluate(() => (window as any).__long);
  const seconds = (Date.now() - started) / 1000;
  console.log(`fleet page, ${nodes} nodes, headless Chromium`);
  console.log(`  all cards rendered      ${renderMs} ms after navigation`);
  console.log(`  live updates            ${Math.round(sent / seconds).toLocaleString()} samples/s for ${seconds.toFixed(0)} s`);
  console.log(`  frames                  ${(frames / (liveMs / 1000)).toFixed(0)} per second`);
  console.log(`  long tasks (> 50 ms)    ${longTasks.length}, longest ${Math.round(Math.max(0, ...longTasks))} ms`);
} finally {
  await browser.close();
  await web.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
