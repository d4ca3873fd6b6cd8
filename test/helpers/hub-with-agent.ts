// A broker, an open hub (no logins) and a real agent process reporting to it at 250 ms, for tests
// of what the hub asks of agents (sessions, watches); and a plain JSON POST to such a hub.
import { CLI, getJson, spawnProcess, startBroker, startHub, waitFor } from './parts.ts';

export async function hubWithAgent(node: string) {
  const { url } = await startBroker();
  const { api, hub } = await startHub(url);
  spawnProcess(process.execPath, [CLI, 'agent', '--broker', url, '--node', node, '--interval', '250ms', '--process-interval', '250ms']);
  await waitFor(`${node} online`, async () => (await getJson(`${api}/api/nodes/${node}/control`)).body.status === 'online');
  return { url, api, hub };
}

export async function post(url: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
