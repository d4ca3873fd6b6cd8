// Tags in the dashboard, in a real browser (Debian chromium) against a real broker and hub: 300
// made-up nodes, tagged by their birth records (the agent's tags) and by the API (the hub's), are
// filtered by tag (?tag=, kept in the URL) and by tag words in the text filter, grouped by tag (a
// header row per tag, the same height as a node's row, only the rows on screen drawn), shown on
// the cards, and edited on a node page.
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeInfo, topics } from '../../protocol/index.ts';
import { launchBrowser, pageErrors } from '../helpers/browser.ts';
import { fleetName, publishFleet, type FakeNode } from '../helpers/fake-fleet.ts';
import { getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';
import { ROW_H } from '../../web/client/fleet-table.ts';

afterEach(runCleanups);

const COUNT = 300;
/** The agent's tags of node i: ci every third, room:kitchen every fifth (both every fifteenth). */
const agentTags = (i: number): string[] => [...(i % 3 === 0 ? ['ci'] : []), ...(i % 5 === 0 ? ['room:kitchen'] : [])];

/** The table's rows on screen, top to bottom: a node's name or a group's label. */
async function rowsInOrder(page: Page): Promise<{ node: string; group: string | null; tags: string; height: number }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.ft-row:not([hidden])')]
      .map((r) => ({
        y: new DOMMatrix(getComputedStyle(r).transform).m42,
        node: r.dataset['node'] ?? '',
        group: r.dataset['group'] ?? null,
        label: r.querySelector('[data-col="name"]')?.textContent ?? '',
        tags: r.querySelector('[data-col="tags"]')?.textContent ?? '',
        height: r.getBoundingClientRect().height,
      }))
      .sort((a, b) => a.y - b.y)
      .map(({ y: _y, label, ...row }) => ({ ...row, node: row.node || label })),
  );
}

describe('tags in the fleet view', () => {
  it('filters by tag and by tag words, groups by tag, shows them on cards and edits them on the node page', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const fleet: FakeNode[] = Array.from({ length: COUNT }, (_, i) => ({ name: fleetName(i), status: 'online', sample: () => ({ cpu_pct: i % 90 }) }));
    const client = await publishFleet(url, fleet);
    // Birth records with tags, as agents started with --tags send them.
    for (let i = 0; i < COUNT; i++) {
      const tags = agentTags(i);
      if (!tags.length) continue;
      const info = {
        v: 1,
        agent_version: '1.0.0',
        hostname: `${fleetName(i)}.lan`,
        os: 'Fake Linux',
        kernel: '6.6',
        arch: 'arm64',
        cpu_model: 'A72',
        cpu_cores: 4,
        mem_total_bytes: 4e9,
        disks: [],
        boot_time_ms: 1,
        interval_ms: 1000,
        tags,
      };
      await client.publishAsync(topics.info(fleetName(i)), Buffer.from(encodeInfo(info)), { qos: 1, retain: true });
    }
    const ci = Array.from({ length: COUNT }, (_, i) => i)
      .filter((i) => i % 3 === 0)
      .map(fleetName);
    const kitchen = Array.from({ length: COUNT }, (_, i) => i)
      .filter((i) => i % 5 === 0)
      .map(fleetName);
    await waitFor(
      '300 nodes with their tags',
      async () => {
        const nodes = (await getJson(`${api}/api/nodes`)).body.nodes as { name: string; tags: string[] }[];
        return nodes.length === COUNT && nodes.filter((n) => n.tags.includes('ci')).length === ci.length;
      },
      30_000,
    );
    // A hub tag beside the agent's, as the node page or enrolment gives it.
    const put = await fetch(`${api}/api/nodes/${fleetName(1)}/tags`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"tags":["site-b"]}',
    });
    expect(put.status).toBe(200);

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const errors = pageErrors(page);

    // ?tag=ci from a shared link: only ci nodes, the select showing it.
    await page.goto(`${api}/?tag=ci&sort=name`);
    await page.locator('body[data-ready="true"][data-view="table"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.textContent('#shown'), { timeout: 10_000 }).toBe(`${ci.length} of ${COUNT} shown`);
    expect(await page.inputValue('#tag-filter')).toBe('ci');
    expect(await page.locator('#tag-filter option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([
      '',
      'ci',
      'room:kitchen',
      'site-b',
    ]);
    const ciRows = await rowsInOrder(page);
    expect(ciRows.length).toBeGreaterThan(10);
    expect(ciRows.map((r) => r.node)).toEqual(ci.slice(0, ciRows.length));
    expect(ciRows.every((r) => r.tags.split(' ').includes('ci'))).toBe(true);
    expect(ciRows[0]!.tags).toBe('ci room:kitchen'); // fleet-0000 carries both

    // Tag words in the text filter, with the tag filter cleared from the select.
    await page.selectOption('#tag-filter', '');
    expect(new URL(page.url()).searchParams.get('tag')).toBeNull();
    await page.fill('#filter', 'kitchen');
    expect(await page.textContent('#shown')).toBe(`${kitchen.length} of ${COUNT} shown`);
    await page.fill('#filter', 'site-b');
    // The table draws at the next frame: each view after a control is waited for.
    await expect.poll(async () => (await rowsInOrder(page)).map((r) => r.node), { timeout: 5000 }).toEqual([fleetName(1)]);
    await page.fill('#filter', '');

    // Group by tag: a header per tag (sorted), then its nodes; untagged last. Every row one height.
    await page.click('#group-by-tag');
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ view: 'table', sort: 'name', group: 'tag' }); // groups are the table's rows
    expect(await page.getAttribute('#group-by-tag', 'aria-pressed')).toBe('true');
    await expect.poll(async () => (await rowsInOrder(page))[0]?.group, { timeout: 5000 }).toBe('ci');
    const top = await rowsInOrder(page);
    expect(top[0]).toMatchObject({ group: 'ci', node: `ci · ${ci.length} nodes` });
    expect(top.slice(1, 6).map((r) => r.node)).toEqual(ci.slice(0, 5));
    expect(new Set(top.map((r) => r.height))).toEqual(new Set([ROW_H]));
    expect(top.length, 'only the rows on screen').toBeLessThan(60);
    // Scrolled to a group further down: its header sits where the row count says it does.
    const kitchenHeaderIndex = 1 + ci.length;
    await page.evaluate((y) => document.querySelector('.ft-box')!.scrollTo(0, y), kitchenHeaderIndex * ROW_H);
    await expect
      .poll(async () => (await rowsInOrder(page)).find((r) => r.group === 'room:kitchen')?.node, { timeout: 5000 })
      .toBe(`room:kitchen · ${kitchen.length} nodes`);
    const untagged = COUNT - new Set([...ci, ...kitchen, fleetName(1)]).size;
    await page.evaluate((y) => document.querySelector('.ft-box')!.scrollTo(0, y), (ci.length + kitchen.length + 4) * ROW_H);
    await expect.poll(async () => (await rowsInOrder(page)).find((r) => r.group === '')?.node, { timeout: 5000 }).toBe(`untagged · ${untagged} nodes`);
    // At the bottom, the last untagged node (by name) is the last row.
    await page.evaluate(() => document.querySelector('.ft-box')!.scrollTo(0, 1e7));
    await expect.poll(async () => (await rowsInOrder(page)).at(-1)?.node, { timeout: 5000 }).toBe(fleetName(COUNT - 1));
    expect(await page.evaluate(() => document.querySelector<HTMLElement>('.ft-body')!.style.height)).toBe(
      `${(ci.length + kitchen.length + 1 + untagged + 4) * ROW_H}px`,
    );
    // Grouped and filtered to one tag: that tag's group alone.
    await page.selectOption('#tag-filter', 'site-b');
    await expect.poll(async () => (await rowsInOrder(page)).map((r) => r.node), { timeout: 5000 }).toEqual(['site-b · 1 node', fleetName(1)]);

    // The cards view shows each node's tags as chips.
    await page.goto(`${api}/?view=cards&tag=site-b`);
    await page
      .locator(`a.card[data-node="${fleetName(1)}"] .tag-chip`)
      .first()
      .waitFor({ timeout: 10_000 });
    expect(await page.locator(`a.card[data-node="${fleetName(1)}"] .tag-chip`).allTextContents()).toEqual(['site-b']);

    // The node page: chips, and (an open hub, so an admin's view) the editor of the hub's tags.
    await page.goto(`${api}/nodes/${fleetName(0)}`);
    await page.locator('.node-tags .tag-chip').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.node-tags .tag-chip').allTextContents()).toEqual(['ci', 'room:kitchen']);
    await page.click('#edit-tags');
    await page.fill('#tags-input', 'lab, Bad Tag');
    await page.click('#save-tags');
    await expect.poll(() => page.locator('.node-tags [role="status"]').textContent()).toMatch(/"bad tag"|"Bad Tag"/);
    await page.fill('#tags-input', 'lab, attic');
    await page.click('#save-tags');
    await expect.poll(() => page.locator('.node-tags .tag-chip').allTextContents()).toEqual(['attic', 'ci', 'lab', 'room:kitchen']);
    const stored = (await getJson(`${api}/api/nodes/${fleetName(0)}`)).body as { tags: string[]; hub_tags: string[] };
    expect([stored.tags, stored.hub_tags]).toEqual([
      ['attic', 'ci', 'lab', 'room:kitchen'],
      ['attic', 'lab'],
    ]);
    expect(errors).toEqual([]);
    await browser.close();
  }, 120_000);
});
