// The notification channels, chosen by the scheme of the channel URL; one file per channel, each
// a Channel (channel.ts). Adding a channel is one file and one line here.
import * as v from 'valibot';
import { hostProblem } from '../destination.ts';
import type { AlarmMessage, Channel, SendContext } from './channel.ts';
import { discordChannel } from './discord.ts';
import { emailChannel } from './email.ts';
import { gotifyChannel } from './gotify.ts';
import { ntfyChannel } from './ntfy.ts';
import { pushoverChannel } from './pushover.ts';
import { slackChannel } from './slack.ts';
import { telegramChannel } from './telegram.ts';
import { webhookChannel } from './webhook.ts';

const CHANNELS: readonly Channel[] = [webhookChannel, ntfyChannel, gotifyChannel, telegramChannel, discordChannel, slackChannel, pushoverChannel, emailChannel];

const BY_SCHEME = new Map(CHANNELS.flatMap((c) => c.schemes.map((s) => [s, c] as const)));

export const CHANNEL_SCHEMES: readonly string[] = [...BY_SCHEME.keys()];

/** The longest channel URL taken, characters. */
const MAX_URL = 2000;

const notAChannel = (value: unknown) =>
  `must be a channel URL (${CHANNEL_SCHEMES.map((s) => `${s}://`).join(', ')}) of at most ${MAX_URL} characters, got ${JSON.stringify(value)?.slice(0, 80)}`;

function parse(value: string): { url: URL; channel: Channel } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `${JSON.stringify(redactedChannel(value))} is not a URL` };
  }
  const scheme = url.protocol.slice(0, -1);
  const channel = BY_SCHEME.get(scheme);
  if (!channel) return { problem: `unknown channel ${JSON.stringify(`${scheme}://`)}; known: ${CHANNEL_SCHEMES.map((s) => `${s}://`).join(', ')}` };
  return { url, channel };
}

/** A channel URL: its scheme names a channel, its host may be notified (destination.ts), and the channel's own fields are right. */
export const ChannelUrlSchema = v.pipe(
  v.string((i) => notAChannel(i.input)),
  v.maxLength(MAX_URL, (i) => notAChannel(i.input)),
  v.rawCheck(({ dataset, addIssue }) => {
    if (dataset.issues || typeof dataset.value !== 'string') return;
    const parsed = parse(dataset.value);
    if ('problem' in parsed) return addIssue({ message: parsed.problem });
    const host = hostProblem(parsed.url);
    if (host) addIssue({ message: host });
    // The channel's issues are the URL's: one field, as the rule editor shows it.
    for (const issue of v.safeParse(parsed.channel.url, parsed.url).issues ?? []) addIssue({ message: issue.message });
  }),
);

/** Every problem of a channel URL (ChannelUrlSchema). Empty when fine. */
export function channelProblems(value: unknown): string[] {
  return (v.safeParse(ChannelUrlSchema, value).issues ?? []).map((issue) => issue.message);
}

/** The channel's name (its first scheme: `ntfy`, `smtp`, `http` for a webhook…), or null when the URL names none. */
export function channelName(value: string): string | null {
  const parsed = parse(value);
  return 'problem' in parsed ? null : parsed.channel === webhookChannel ? 'webhook' : parsed.channel.schemes[0]!;
}

/** Sends one message; throws with what went wrong, the URL's problems included. */
export async function sendToChannel(value: string, message: AlarmMessage, ctx: SendContext): Promise<void> {
  const problems = channelProblems(value);
  if (problems.length > 0) throw new Error(`refused destination: ${problems.join('; ')}`);
  const { url, channel } = parse(value) as { url: URL; channel: Channel };
  await channel.send(url, message, ctx);
}

/**
 * A channel URL as logs and the API may show it: scheme, host and port only. Tokens sit in the
 * user part, the path (Discord, Slack, Gotify) or the query, so all of those are left out.
 */
export function redactedChannel(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname.length > 1 || url.search ? '/…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/** The channel URL an `ntfy` field of older rule files means: its http(s) topic URL with the ntfy scheme. */
export function ntfyChannelUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  const user = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  if (url.protocol === 'http:') url.searchParams.set('scheme', 'http');
  return `ntfy://${user}${url.host}${url.pathname}${url.search}`;
}

export type { AlarmMessage, Channel, SendContext } from './channel.ts';
