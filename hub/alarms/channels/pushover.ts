// Pushover (https://pushover.net/api): a form POST to /1/messages.json with the application token,
// the user (or group) key, title, message, priority and the link as a supplementary URL.
// `pushover://APP_TOKEN@api.pushover.net?user=USER_KEY[&devices=phone,tablet]`.
import * as v from 'valibot';
import { channelUrl, listParam, post, renderText, schemeOf, schemeParam, serviceUrl, type Channel } from './channel.ts';

/** Pushover's limits, characters. */
const MAX_MESSAGE = 1024;
const MAX_TITLE = 250;
const PRIORITY: Record<string, string> = { red: '1', offline: '1', amber: '0', ok: '-1' };
const KEY = /^[A-Za-z0-9]{30}$/;

export const pushoverChannel: Channel = {
  schemes: ['pushover'],
  url: channelUrl((url) => ({ scheme: schemeOf(url), token: decodeURIComponent(url.username), user: url.searchParams.get('user') ?? '' }), {
    scheme: schemeParam,
    token: v.pipe(
      v.string(),
      v.regex(KEY, 'the application token (30 letters and digits) goes before the host: pushover://APP_TOKEN@api.pushover.net?user=USER_KEY'),
    ),
    user: v.pipe(v.string(), v.regex(KEY, 'user= must be the user or group key (30 letters and digits)')),
  }),
  async send(url, message, ctx) {
    const form = new URLSearchParams({
      token: decodeURIComponent(url.username),
      user: url.searchParams.get('user') ?? '',
      title: message.title.slice(0, MAX_TITLE),
      message: renderText(message, MAX_MESSAGE, false),
      priority: message.status === 'test' ? '0' : (PRIORITY[message.level] ?? '0'),
    });
    if (message.url) {
      form.set('url', message.url);
      form.set('url_title', 'Open in remonitor');
    }
    const devices = listParam(url, 'devices');
    if (devices.length > 0) form.set('device', devices.join(','));
    await post(serviceUrl(url, '/1/messages.json'), { 'content-type': 'application/x-www-form-urlencoded' }, form.toString(), ctx);
  },
};
