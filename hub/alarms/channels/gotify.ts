// Gotify (https://gotify.net/api-docs, POST /message): JSON with title, message and priority, the
// application token in the X-Gotify-Key header, the link as the notification's click action.
// `gotify://host[:port][/path]/APP_TOKEN`: the last path segment is the token, any path before it
// the server's base path (Gotify behind a reverse proxy).
import * as v from 'valibot';
import { channelUrl, postJson, renderText, schemeOf, schemeParam, serviceUrl, type Channel } from './channel.ts';

const PRIORITY: Record<string, number> = { red: 8, offline: 7, amber: 5, ok: 2 };

function split(url: URL): { base: string; token: string } {
  const parts = url.pathname.split('/');
  const token = parts.pop() ?? '';
  return { base: parts.join('/'), token };
}

export const gotifyChannel: Channel = {
  schemes: ['gotify'],
  url: channelUrl((url) => ({ scheme: schemeOf(url), token: split(url).token }), {
    scheme: schemeParam,
    token: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,128}$/, 'the last path segment must be the application token (gotify://host/APP_TOKEN)')),
  }),
  async send(url, message, ctx) {
    const { base, token } = split(url);
    const body = {
      title: message.title,
      message: renderText(message),
      priority: message.status === 'test' ? 4 : (PRIORITY[message.level] ?? 5),
      ...(message.url ? { extras: { 'client::notification': { click: { url: message.url } } } } : {}),
    };
    await postJson(serviceUrl(url, `${base}/message`), body, ctx, { 'X-Gotify-Key': token });
  },
};
