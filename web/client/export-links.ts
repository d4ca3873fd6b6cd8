// The node page's Export links: raw samples of the range on screen, as CSV or JSON, from
// GET /api/nodes/:node/export. The range is read from the page URL when clicked (`?range=`).

/** How far back each range of the node page reaches; live shows the last 15 minutes. */
const RANGE_FROM: Record<string, string> = { live: '-15m', '1h': '-1h', '24h': '-24h', '7d': '-7d' };

export function exportHref(node: string, format: 'csv' | 'json', rangeKey: string | null): string {
  const from = RANGE_FROM[rangeKey ?? 'live'] ?? RANGE_FROM['live']!;
  const params = new URLSearchParams({ format, from, to: 'now' });
  return `/api/nodes/${encodeURIComponent(node)}/export?${params.toString()}`;
}

export function setupExportLinks(node: string): void {
  for (const format of ['csv', 'json'] as const) {
    const link = document.getElementById(`export-${format}`) as HTMLAnchorElement | null;
    if (!link) continue;
    const refresh = () => (link.href = exportHref(node, format, new URLSearchParams(location.search).get('range')));
    refresh();
    // The range can change without a reload (history.replaceState), so the link is fixed up on use.
    link.addEventListener('pointerdown', refresh);
    link.addEventListener('focus', refresh);
    link.addEventListener('click', refresh);
  }
}
