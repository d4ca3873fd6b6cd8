// The fleet table in headless Chromium with 1,000 and 10,000 nodes: time until it is interactive,
// beside a blank page loaded and waited for the same way (the reference: this browser's floor here)
// (first load, and a second page after it, when the hub has decoded the nodes' stored records
// once), against the targets (500 ms at 1,000 nodes, 1.5 s at 10,000), a sort by CPU and a text filter (click or keystroke to drawn rows), the row elements in the DOM,
// and frames per second and long tasks while every node of the first thousand sends a sample each
// second (1,000 samples/s). bench/page-render.ts measures the cards view.
// Run: node scripts/run-ts.mjs bench/fleet-page.ts [--nodes 1000,10000] [--live 10s]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { LiveFeed } from '../hub/live-feed.ts';
import { toPoint } from '../hub/storage/sample-point.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { encodeInfo, encodeSample, parseDuration } from '../protocol/index.ts';
import { createApp } from '../web/app.ts';
import { listen } from '../web/server.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000,10000' }, live: { type: 'string', default: '10s' } } });
const sizes = values.nodes.split(',').map(Number);
const liveMs = parseDuration(values.live);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000))
  throw new Error(`--nodes: a comma-separated list of integers from 1 to 100000, not ${values.nodes}`);
if (liveMs == null || liveMs > 600_000) throw new Error(`--live: a duration up to 10 min such as 10s, not ${values.live}`);
/** Samples per second during the live phase. */
const LIVE_RATE = 1000;
/** Time to interactive the fleet page is to stay within, ms, by fleet size. */
const INTERACTIVE_TARGET_MS = [
  { upTo: 1000, ms: 500 },
  { upTo: 10_000, ms: 1500 },
];
const targetFor = (nodes: number): number | null => INTERACTIVE_TARGET_MS.find((t) => nodes <= t.upTo)?.ms ?? null;
const againstTarget = (ms: number, target: number | null): string =>
  target === null ? '' : ms <= target ? `(target ${target} ms: met)` : `(target ${target} ms: missed by ${ms - target} ms)`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let blankPage = { wallMs: 0, inPageMs: 0 };
try {
  blankPage = await blankPageReference();
  for (const nodes of sizes) await run(nodes);
} finally {
  await browser.close();
}

/**
 * Navigates and waits until the page shows a row of nodes and says it is ready. Checked in the page
 * at every animation frame from the moment the navigation commits: Playwright's locator.waitFor
 * polls from the server at 20, 50, 100, 100, then every 500 ms after the load event, which
 * added up to half a second to a page that became ready a moment after a poll. wallMs: from the
 * call here; inPageMs: from the navigation's start, by the page's own clock (no Playwright round trip).
 */
async function interactiveAfter(page: Page, url: string): Promise<{ wallMs: number; inPageMs: number }> {
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  const ready = await page.waitForFunction(
    () => document.querySelector('body[data-ready="true"] .ft-row[data-node]') !== null && performance.now(),
    undefined,
    {
      polling: 'raf',
      timeout: 60_000,
    },
  );
  const wallMs = Date.now() - t0;
  return { wallMs, inPageMs: Math.round((await ready.jsonValue()) as number) };
}

/**
 * Where a load's time went, by the page's clock (ms from the navigation's start): the HTML's last
 * byte, the script's, the node list's request, first and last byte and size, and the fleet page's
 * marks (fleet-page.ts): script running, list parsed, list applied, ready. Runs in the page.
 */
function loadSteps(): string {
  const at = (ms: number | undefined) => (ms === undefined ? '?' : String(Math.round(ms)));
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  const script = resources.find((e) => new URL(e.name).pathname === '/assets/fleet-page.js');
  const list = resources.find((e) => new URL(e.name).pathname === '/api/nodes');
  const mark = (name: string) => performance.getEntriesByName(name, 'mark')[0]?.startTime;
  return [
    `html ${at(nav?.responseEnd)}`,
    `script ${at(script?.responseEnd)}, runs ${at(mark('fleet:script'))}`,
    `list asked ${at(list?.requestStart)}, first byte ${at(list?.responseStart)}, last ${at(list?.responseEnd)} (${Math.round((list?.encodedBodySize ?? 0) / 1024)} KB)`,
    `parsed ${at(mark('fleet:nodes-parsed'))}, applied ${at(mark('fleet:nodes-applied'))}, ready ${at(mark('fleet:ready'))}`,
  ].join('; ');
}

/**
 * The reference: a page of one paragraph from a plain HTTP server in this process, loaded and
 * waited for as the fleet page is (median of 5). What this browser on this machine takes for any
 * page; the fleet page's own cost is what it takes beyond it.
 */
async function blankPageReference(): Promise<{ wallMs: number; inPageMs: number }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><html><body><p class="ft-row" data-node="x">x</p><script>document.body.dataset.ready = "true"</script></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const times: number[] = [];
    const inPage: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const t = await interactiveAfter(page, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      times.push(t.wallMs);
      inPage.push(t.inPageMs);
      await page.close();
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
    return { wallMs: median(times), inPageMs: median(inPage) };
  } finally {
    server.close();
  }
}

async function run(nodes: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-fleet-'));
  const store = openSqliteStore(join(dir, 'fleet.db'));
  const fleet = Array.from({ length: nodes }, (_, i) => new SimulatedNode(`node-${String(i).padStart(5, '0')}`, i + 1));
  const now = Date.now();
  for (let i = 0; i < fleet.length; i += 1000) {
    store.insertBatch(
      fleet.slice(i, i + 1000).map((n) => {
        const sample = n.next(now);
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
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.addInitScript(() => {
      (window as any).__long = [];
      new PerformanceObserver((list) => (window as any).__long.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask', buffered: true });
    });
    const load = async (p: Page): Promise<{ interactiveMs: number; inPageMs: number; nodesApiMs: number; steps: string }> => {
      const { wallMs: interactiveMs, inPageMs } = await interactiveAfter(p, `http://127.0.0.1:${web.port}/?view=table`);
      const nodesApiMs = await p.evaluate(
        () => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((e) => new URL(e.name).pathname === '/api/nodes')?.duration ?? NaN,
      );
      return { interactiveMs, inPageMs, nodesApiMs, steps: await p.evaluate(loadSteps) };
    };
    const first = await load(page);
    const secondPage = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const again = await load(secondPage).finally(() => secondPage.close());
    const timed = (script: () => void) => page.evaluate(script).then(() => page.evaluate(() => (window as any).__took as number));
    const sortMs = await timed(() => {
      const t = performance.now();
      document.querySelector<HTMLElement>('.ft-th[data-sort="cpu"]')!.click();
      (window as any).__took = performance.now() - t;
    });
    const filterMs = await timed(() => {
      const input = document.querySelector<HTMLInputElement>('#filter')!;
      const t = performance.now();
      input.value = 'node-000';
      input.dispatchEvent(new Event('input'));
      (window as any).__took = performance.now() - t;
    });
    const clearMs = await timed(() => {
      const input = document.querySelector<HTMLInputElement>('#filter')!;
      const t = performance.now();
      input.value = '';
      input.dispatchEvent(new Event('input'));
      (window as any).__took = performance.now() - t;
    });
    const rows = await page.locator('.ft-row').count();
    await page.evaluate(() => ((window as any).__long = []));

    // Live: LIVE_RATE samples per second, spread over the second as a fleet does.
    const live = fleet.slice(0, LIVE_RATE);
    const started = Date.now();
    let sent = 0;
    let tick = 0;
    const slice = Math.ceil(live.length / 10);
    const timer = setInterval(() => {
      const ts = Date.now();
      const from = (tick++ % 10) * slice;
      for (const n of live.slice(from, from + slice)) feed.publish({ type: 'sample', node: n.name, point: toPoint(n.next(ts)) });
      sent += Math.min(slice, live.length - from);
    }, 100);
    const frames = await page.evaluate(
      (ms) =>
        new Promise<number>((resolve) => {
          let count = 0;
          const end = performance.now() + ms;
          const step = () => (performance.now() < end ? (count++, requestAnimationFrame(step)) : resolve(count));
          requestAnimationFrame(step);
        }),
      liveMs!,
    );
    clearInterval(timer);
    const longTasks: number[] = await page.evaluate(() => (window as any).__long);
    const seconds = (Date.now() - started) / 1000;
    console.log(`fleet table, ${nodes.toLocaleString()} nodes, headless Chromium`);
    const target = targetFor(nodes);
    console.log(
      `  a blank page            ${blankPage.wallMs} ms (${blankPage.inPageMs} ms by its clock; the reference, same measure): the fleet page takes ${(first.interactiveMs / blankPage.wallMs).toFixed(1)}× it, ${first.interactiveMs - blankPage.wallMs} ms beyond it`,
    );
    console.log(
      `  interactive             ${first.interactiveMs} ms after navigation (${first.inPageMs} ms by the page's clock; GET /api/nodes ${Math.round(first.nodesApiMs)} ms of it) ${againstTarget(first.interactiveMs, target)}`,
    );
    console.log(
      `  again, records decoded  ${again.interactiveMs} ms (${again.inPageMs} ms by the page's clock; GET /api/nodes ${Math.round(again.nodesApiMs)} ms of it) ${againstTarget(again.interactiveMs, target)}`,
    );
    console.log(`  first load's steps      ${first.steps}`);
    console.log(`  again, its steps        ${again.steps}`);
    console.log(`  sort by CPU             ${sortMs.toFixed(1)} ms click to drawn rows`);
    console.log(`  text filter             ${filterMs.toFixed(1)} ms keystroke to drawn rows (${clearMs.toFixed(1)} ms to clear it)`);
    console.log(`  row elements            ${rows}`);
    console.log(`  live updates            ${Math.round(sent / seconds).toLocaleString()} samples/s for ${seconds.toFixed(0)} s`);
    console.log(`  frames                  ${(frames / (liveMs! / 1000)).toFixed(0)} per second`);
    console.log(`  long tasks (> 50 ms)    ${longTasks.length}, longest ${Math.round(Math.max(0, ...longTasks))} ms`);
  } finally {
    await page.close();
    await web.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
