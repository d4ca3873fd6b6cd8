// ntfy (https://docs.ntfy.sh/publish/): the text is the body, the rest goes in headers.
// `ntfy://[user:password@]host[:port]/topic[?token=tk_…]`: Basic auth from the user part, or an
// access token as a Bearer header.
import * as v from 'valibot';
import { channelUrl, post, renderText, schemeOf, schemeParam, serviceUrl, type Channel } from './channel.ts';

const PRIORITY: Record<string, string> = { red: '5', offline: '4', amber: '3', ok: '2' };
/** ntfy's limit on a message body, bytes; longer ones become attachments. */
const MAX_CHARS = 4000;

export const ntfyChannel: Channel = {
  schemes: ['ntfy'],
  url: channelUrl((url) => ({ scheme: schemeOf(url), path: url.pathname }), {
    scheme: schemeParam,
    path: v.pipe(
      v.string(),
      v.regex(/^\/[-_A-Za-z0-9]{1,64}$/, (i) => `the path must be one topic name (A-Z a-z 0-9 - _, at most 64), got ${JSON.stringify(i.input)}`),
    ),
  }),
  async send(url, message, ctx) {
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      Title: message.title,
      Priority: message.status === 'test' ? '3' : (PRIORITY[message.level] ?? '3'),
      Tags: message.status === 'test' ? 'test_tube' : message.level === 'ok' ? 'white_check_mark' : message.level === 'amber' ? 'warning' : 'rotating_light',
    };
    if (message.url) headers['Click'] = message.url;
    const token = url.searchParams.get('token');
    if (token) headers['Authorization'] = `Bearer ${token}`;
    else if (url.username)
      headers['Authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    await post(serviceUrl(url), headers, renderText(message, MAX_CHARS, false), ctx);
  },
};
