// A viewer that opens /api/stream and stops reading must not make the hub queue events for it
// without end: past a bound the hub ends that stream (a browser's EventSource reconnects).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveFeed } from '../../hub/live-feed.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { createApp } from '../../web/app.ts';
import { listen } from '../../web/server.ts';
import { closed, openSocket } from '../broker/raw-mqtt.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('GET /api/stream with a client that stops reading', () => {
  it('is ended by the hub once too many events wait for it, and a reading client keeps its stream', async () => {
    const store = openSqliteStore(join(tempDir(), 'stream.db'));
    cleanup(() => store.close());
    const feed = new LiveFeed();
    const web = await listen(createApp({ store, feed }), 0);
    cleanup(() => web.close());
    const apart = feed.size; // the app's own listeners (the /metrics counters)

    const stalled = await openSocket(web.port);
    stalled.pause(); // never reads: the kernel's buffers fill, then events wait in the hub
    stalled.write(`GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const reader = await fetch(`http://127.0.0.1:${web.port}/api/stream`);
    const body = reader.body!.getReader();
    let readBytes = 0;
    const reading = (async () => {
      for (;;) {
        const { done, value } = await body.read();
        if (done) return;
        readBytes += value.length;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    expect(feed.size).toBe(apart + 2);

    const point = { ts_ms: 0, cpu_pct: 1, mem_pct: 2, swap_pct: null, disk_pct: null, temp_c: null, net_rx_bps: null, net_tx_bps: null };
    // Sent in bursts with a turn of the event loop between them, as ingest does.
    for (let burst = 0; burst < 60 && feed.size === apart + 2; burst++) {
      for (let i = 0; i < 1000; i++) feed.publish({ type: 'sample', node: `n${i}`, point: point as never });
      await new Promise((r) => setImmediate(r));
    }
    expect(feed.size).toBe(apart + 1); // only the reading client is still subscribed
    stalled.resume(); // what was sent before the end is read, then the socket closes
    await closed(stalled);
    await new Promise((r) => setTimeout(r, 100));
    expect(readBytes).toBeGreaterThan(1_000_000);
    await body.cancel();
    await reading;
  });
});
