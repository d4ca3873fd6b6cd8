// The alarms API, a Hono sub-app mounted by web/app.ts when the hub runs an alarm engine.
import { Hono, type Context } from 'hono';
import { nodeNameProblem, parseDuration } from '../protocol/index.ts';
import type { AlarmsApi } from '../hub/alarms/alarms-api.ts';
import { redactedChannel } from '../hub/alarms/channels/index.ts';
import type { AckRequest, AlarmRuleInput, AlarmsResponse, FieldProblem, RulesResponse } from '../shared/alarm-types.ts';
import type { ApiError } from '../shared/api-types.ts';
import './auth/caller.ts';

/** Longest history one request may ask for. */
const MAX_HISTORY_MS = 90 * 86_400_000;

type Status = 400 | 404 | 409;

export function createAlarmRoutes(alarms: AlarmsApi, now: () => number = Date.now): Hono {
  const app = new Hono();
  const fail = (c: Context, status: Status, error: string, problems?: FieldProblem[]) =>
    c.json<ApiError & { problems?: FieldProblem[] }>(problems ? { error, problems } : { error }, status);
  /** Runs an engine call; a RuleError (or any error with problems) becomes its 4xx. */
  const guarded = async (c: Context, fn: () => Response | Promise<Response>) => {
    try {
      return await fn();
    } catch (err) {
      const e = err as Error & { problems?: FieldProblem[]; status?: Status };
      if (e.problems) return fail(c, e.status ?? 400, e.message, e.problems);
      throw err;
    }
  };
  const body = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      return undefined;
    }
  };

  app.get('/api/alarms', async (c) => {
    const node = c.req.query('node');
    if (node !== undefined && nodeNameProblem(node)) return fail(c, 400, `node=${JSON.stringify(node)}: ${nodeNameProblem(node)}`);
    const res: AlarmsResponse = { alarms: alarms.active().filter((a) => node === undefined || a.node === node) };
    const historyRaw = c.req.query('history');
    if (historyRaw !== undefined) {
      const ms = parseDuration(historyRaw);
      if (ms === null || ms <= 0 || ms > MAX_HISTORY_MS)
        return fail(c, 400, `history=${JSON.stringify(historyRaw)}: expected a duration like 24h, at most 90d`);
      res.history = (await alarms.history(now() - ms)).filter((t) => node === undefined || t.node === node);
    }
    return c.json(res);
  });

  /** Channel URLs carry tokens (a bot's, a webhook's path): only admins, who may change them, read them whole. */
  const forCaller = (c: Context, rule: AlarmRuleInput): AlarmRuleInput => {
    const caller = c.get('caller');
    if (!caller || caller.role === 'admin' || !rule.notify) return rule;
    const { channels, webhook, ntfy } = rule.notify;
    return {
      ...rule,
      notify: {
        ...rule.notify,
        ...(channels && { channels: channels.map(redactedChannel) }),
        ...(webhook && { webhook: redactedChannel(webhook) }),
        ...(ntfy && { ntfy: redactedChannel(ntfy) }),
      },
    };
  };
  const rulesResponse = (c: Context): RulesResponse => ({ version: 1, rules: alarms.listRules().map((r) => forCaller(c, r)), file: alarms.rulesFileStatus() });

  // The rules in force as the rules file holds them (`version`, `rules`: what PUT takes back), and the file's state.
  app.get('/api/alarms/rules', (c) => c.json(rulesResponse(c)));

  app.put('/api/alarms/rules', async (c) => {
    const input = await body(c);
    if (input === undefined) return fail(c, 400, 'the body must be the rules file\'s JSON: {"version": 1, "rules": [...]}');
    return guarded(c, () => {
      alarms.replaceRules(input);
      return c.json(rulesResponse(c));
    });
  });

  app.get('/api/alarms/rules/:id', (c) => {
    const rule = alarms.listRules().find((r) => r.id === c.req.param('id'));
    return rule ? c.json({ rule: forCaller(c, rule) }) : fail(c, 404, `no rule with id ${JSON.stringify(c.req.param('id'))}`);
  });

  app.post('/api/alarms/rules', async (c) => {
    const input = await body(c);
    if (input === undefined) return fail(c, 400, 'the body must be a JSON rule');
    return guarded(c, () => c.json({ rule: alarms.addRule(input) }, 201));
  });

  app.put('/api/alarms/rules/:id', async (c) => {
    const input = await body(c);
    if (input === undefined) return fail(c, 400, 'the body must be a JSON rule');
    return guarded(c, () => c.json({ rule: alarms.replaceRule(c.req.param('id'), input) }));
  });

  app.delete('/api/alarms/rules/:id', (c) =>
    guarded(c, () => {
      alarms.deleteRule(c.req.param('id'));
      return c.json({ ok: true });
    }),
  );

  app.post('/api/alarms/ack', async (c) => {
    const req = (await body(c)) as Partial<AckRequest> | undefined;
    if (!req || typeof req.node !== 'string' || typeof req.rule_id !== 'string')
      return fail(c, 400, 'the body must be {"node": "...", "rule_id": "...", "subject"?: "..."}');
    const subject = typeof req.subject === 'string' ? req.subject : '';
    const ok = await alarms.ack(req.node, req.rule_id, subject, typeof req.by === 'string' ? req.by.slice(0, 64) : null);
    return ok ? c.json({ ok: true }) : fail(c, 404, `no active alarm ${req.rule_id}${subject ? ` ${subject}` : ''} on node ${JSON.stringify(req.node)}`);
  });

  app.get('/api/alarms/silences', async (c) => c.json({ silences: await alarms.silences() }));

  // A silence: the engine checks the request (hub/alarms/silences.ts); its author is the signed-in caller, never the body.
  app.post('/api/alarms/silence', async (c) => {
    const req = await body(c);
    return guarded(c, async () => c.json({ silence: await alarms.silence(req, c.get('caller')?.name ?? null) }, 201));
  });

  app.delete('/api/alarms/silences/:id', async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isInteger(id)) return fail(c, 400, `silence id must be an integer, got ${JSON.stringify(c.req.param('id'))}`);
    return (await alarms.unsilence(id)) ? c.json({ ok: true }) : fail(c, 404, `no silence ${id}`);
  });

  return app;
}
