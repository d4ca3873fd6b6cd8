// What every notification channel implements, the message they all send, and the helpers they
// share: the plain-text rendering (cut to a channel's length limit without losing the count of
// nodes), the service's base URL taken from the channel URL, and the checked POST.
//
// A channel URL names the channel by its scheme (`ntfy://`, `telegram://`, …) and the service's
// API host by its host, so a LAN instance or a test's fake is one edit away; `?scheme=http` talks
// plain HTTP to that host (a LAN service without TLS, a fake on 127.0.0.1).
import type { OutgoingHttpHeaders } from 'node:http';
import * as v from 'valibot';
import type { AlarmLevel, AlarmTransition } from '../../../shared/alarm-types.ts';
import { postChecked, type Resolver } from '../destination.ts';

/** One notification: a burst of one rule's alarms (firing, resolved or a repeat), or a test. */
export interface AlarmMessage {
  v: 1;
  status: 'firing' | 'resolved' | 'test';
  /** The worst level among the firing alarms; 'ok' when none fires. */
  level: AlarmLevel;
  /** Nothing changed since the last message of this group: sent again because it still fires. */
  repeat: boolean;
  /** One line for a title or subject. */
  title: string;
  /** `when`: the side of the threshold that fires (hub/alarms/rules.ts); absent in messages an older hub queued: "above". */
  rule: { id: string; metric: string; threshold: number; when?: 'above' | 'below'; description: string | null } | null;
  /** Each alarm's last transition, worst level first. */
  firing: AlarmTransition[];
  /** Alarms back to OK since the last message. */
  resolved: AlarmTransition[];
  /** The node's page for one node, the alarms page for more; null when no dashboard URL is set. */
  url: string | null;
}

export interface SendContext {
  /** Per request, ms. */
  timeoutMs: number;
  resolve?: Resolver;
}

export interface Channel {
  /** The URL schemes that choose it, without the colon. */
  readonly schemes: readonly string[];
  /** A URL of this channel: its own fields (beyond its host, which destination.ts judges), each problem an issue (channelUrl). */
  readonly url: v.GenericSchema<URL, unknown>;
  /** Delivers one message; throws an Error whose text says what the service answered. */
  send(url: URL, message: AlarmMessage, ctx: SendContext): Promise<void>;
}

const LEVEL_ORDER: Record<AlarmLevel, number> = { red: 0, offline: 1, amber: 2, ok: 3 };

export function worse(a: AlarmLevel, b: AlarmLevel): AlarmLevel {
  return LEVEL_ORDER[a] <= LEVEL_ORDER[b] ? a : b;
}

/** pi-2 before pi-10. */
const NATURAL = new Intl.Collator('en', { numeric: true });

/** Worst level first, then by node and subject. */
export function byLevel(a: AlarmTransition, b: AlarmTransition): number {
  return LEVEL_ORDER[a.to] - LEVEL_ORDER[b.to] || NATURAL.compare(a.node, b.node) || NATURAL.compare(a.subject, b.subject);
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** One alarm's change on one line, as a single-alarm message says it ("… ok → red at 0 (threshold below 1)" for a below-rule). */
export function transitionLine(t: AlarmTransition, threshold: number | null, when: 'above' | 'below' = 'above'): string {
  const what = t.subject ? `${t.metric} ${t.subject}` : t.metric;
  const value = t.value === null ? '' : ` at ${round1(t.value)}`;
  const given = threshold ?? t.threshold;
  const limit = given === null ? null : when === 'below' ? `below ${given}` : String(given);
  const eta =
    t.to === 'amber' && t.tt_ms !== null && limit !== null
      ? `, threshold ${limit} predicted in ${Math.round(t.tt_ms / 60_000)} min`
      : limit === null
        ? ''
        : ` (threshold ${limit})`;
  return `${t.node}: ${what} ${t.from} → ${t.to}${value}${eta}`;
}

/** What a level means for a rule, in a few words ("disk_pct over 90"). */
function condition(level: AlarmLevel, metric: string, threshold: number | null, when: 'above' | 'below'): string {
  if (level === 'offline' || metric === 'offline') return 'offline';
  if (threshold === null) return metric;
  const [past, back] = when === 'below' ? ['below', 'above'] : ['over', 'under'];
  if (level === 'amber') return `${metric} predicted ${past} ${threshold}`;
  if (level === 'ok') return `${metric} back ${back} ${threshold}`;
  return `${metric} ${past} ${threshold}`;
}

const alarmName = (t: AlarmTransition) => (t.subject ? `${t.node} ${t.subject}` : t.node);

/**
 * The message as plain text of at most `maxChars` characters: for one alarm its line, for more one
 * line per level ("RED 12 nodes: disk_pct over 90 — pi-1, pi-2, …"). When the names do not fit,
 * the last ones give way to "and N more" (the count always stays), then the link is kept last.
 */
export function renderText(message: AlarmMessage, maxChars = Number.POSITIVE_INFINITY, withLink = true): string {
  const link = withLink && message.url ? `\n${message.url}` : '';
  const budget = maxChars - link.length;
  const threshold = message.rule?.threshold ?? null;
  const when = message.rule?.when ?? 'above';
  const all = [...message.firing, ...message.resolved];
  if (message.status === 'test') return cut('remonitor test notification: this channel works.', budget) + link;
  if (all.length === 1) return cut(transitionLine(all[0]!, threshold, when), budget) + link;
  const groups: { head: string; names: string[] }[] = [];
  const levels = new Map<AlarmLevel, AlarmTransition[]>();
  for (const t of message.firing) levels.set(t.to, [...(levels.get(t.to) ?? []), t]);
  for (const [level, list] of levels) {
    groups.push({ head: `${level.toUpperCase()} ${count(list)}: ${condition(level, list[0]!.metric, threshold, when)}`, names: list.map(alarmName) });
  }
  if (message.resolved.length > 0) {
    groups.push({
      head: `resolved ${count(message.resolved)}: ${condition('ok', message.resolved[0]!.metric, threshold, when)}`,
      names: message.resolved.map(alarmName),
    });
  }
  const prefix = message.repeat ? 'still firing\n' : '';
  // Names are dropped from the longest list first until the whole fits.
  const shown = groups.map((g) => g.names.length);
  const text = () => prefix + groups.map((g, i) => g.head + namesText(g.names, shown[i]!)).join('\n');
  let out = text();
  while (out.length > budget && shown.some((n) => n > 0)) {
    const longest = shown.indexOf(Math.max(...shown));
    // Skip ahead by the names the excess surely holds (each at most `widest` and a comma).
    const widest = Math.max(...groups[longest]!.names.map((n) => n.length)) + 2;
    shown[longest] = Math.max(0, shown[longest]! - Math.max(1, Math.floor((out.length - budget) / widest)));
    out = text();
  }
  return cut(out, budget) + link;
}

function count(list: AlarmTransition[]): string {
  const nodes = new Set(list.map((t) => t.node)).size;
  return nodes === 1 && list.length === 1 ? '1 node' : nodes === list.length ? `${nodes} nodes` : `${list.length} alarms on ${nodes} nodes`;
}

function namesText(names: string[], shown: number): string {
  const more = names.length - shown;
  const listed = names.slice(0, shown).join(', ');
  if (more <= 0) return ` — ${listed}`;
  return shown === 0 ? ` — ${more} not listed` : ` — ${listed} and ${more} more`;
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * The service's base URL from a channel URL: https (http with `?scheme=http`), its host and port,
 * and `path` (default the channel URL's own path). No user name or password.
 */
export function serviceUrl(url: URL, path = url.pathname): string {
  const scheme = url.searchParams.get('scheme') === 'http' ? 'http' : 'https';
  return `${scheme}://${url.host}${path}`;
}

/**
 * A channel URL's schema: `parts` picks the fields a channel reads (a query parameter, a path
 * segment, the user part), `entries` judge them; each message reads alone, as the URL's problem.
 */
export function channelUrl<TEntries extends v.ObjectEntries>(parts: (url: URL) => { [K in keyof TEntries]: unknown }, entries: TEntries) {
  return v.pipe(v.instance(URL), v.transform(parts), v.object(entries));
}

/** The `scheme` parameter every HTTP channel takes: absent, http or https. */
export const schemeParam = v.nullable(v.picklist(['http', 'https'], (i) => `scheme=${JSON.stringify(i.input)}: must be http or https`));

/** The `scheme` parameter of a URL, for schemeParam. */
export const schemeOf = (url: URL) => url.searchParams.get('scheme');

/** POSTs to a checked destination; a non-2xx answer throws with the status and the start of what the service said. */
export async function post(target: string, headers: OutgoingHttpHeaders, body: string, ctx: SendContext): Promise<string> {
  const res = await postChecked(target, headers, body, ctx.timeoutMs, ctx.resolve);
  if (res.status >= 200 && res.status <= 299) return res.body;
  const said = res.body.trim().replace(/\s+/g, ' ').slice(0, 300);
  const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
  throw new Error(`HTTP ${res.status} ${res.statusText}${redirect}${said ? `: ${said}` : ''}`);
}

export function postJson(target: string, value: unknown, ctx: SendContext, headers: OutgoingHttpHeaders = {}): Promise<string> {
  return post(target, { 'content-type': 'application/json', ...headers }, JSON.stringify(value), ctx);
}

/** A comma-separated query parameter as a list, empty entries dropped. */
export function listParam(url: URL, name: string): string[] {
  return (url.searchParams.get(name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
