// Notification channels from the dashboard: POST /api/alarms/channels/test sends a test message to
// a channel URL now (not queued, not retried) and answers with what the service said when it
// failed. Admins only (web/route-roles.ts): like a rule, it says where the hub sends things.
import { Hono, type Context } from 'hono';
import { channelProblems, redactedChannel, sendToChannel } from '../hub/alarms/channels/index.ts';
import { testMessage } from '../hub/alarms/notifier.ts';
import type { ApiError } from '../shared/api-types.ts';

export interface ChannelRouteOptions {
  /** Sends the test message; default: straight to the channel, with the system's resolver. */
  send?: (url: string) => Promise<void>;
  /** Per request, ms. */
  timeoutMs?: number;
}

/** POST /api/alarms/channels/test's body. */
export interface ChannelTestRequest {
  url: string;
}

export function channelRoutes(options: ChannelRouteOptions = {}): Hono {
  const app = new Hono();
  const send = options.send ?? ((url: string) => sendToChannel(url, testMessage(null), { timeoutMs: options.timeoutMs ?? 10_000 }));
  const fail = (c: Context, status: 400 | 502, error: string, problems?: { field: string; problem: string }[]) =>
    c.json<ApiError & { problems?: { field: string; problem: string }[] }>(problems ? { error, problems } : { error }, status);

  app.post('/api/alarms/channels/test', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, 400, 'the body must be JSON: {"url": "<channel URL>"}');
    }
    const url = (body as Partial<ChannelTestRequest> | null)?.url;
    const problems = channelProblems(url).map((problem) => ({ field: 'url', problem }));
    if (problems.length > 0) return fail(c, 400, problems.map((p) => `url: ${p.problem}`).join('; '), problems);
    try {
      await send(url as string);
    } catch (err) {
      return fail(c, 502, `the test notification to ${redactedChannel(url as string)} failed: ${(err as Error).message}`);
    }
    return c.json({ ok: true, channel: redactedChannel(url as string) });
  });
  return app;
}
