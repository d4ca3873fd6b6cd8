// Telegram (https://core.telegram.org/bots/api#sendmessage): one sendMessage per chat, plain text
// (no parse mode, so nothing in a node name or value needs escaping).
// `telegram://BOT_TOKEN@api.telegram.org?chats=CHAT_ID[,CHAT_ID…]`: a chat is a number or @channel.
import * as v from 'valibot';
import { channelUrl, listParam, postJson, renderText, schemeOf, schemeParam, serviceUrl, type Channel } from './channel.ts';

/** Telegram's limit on a message's text, characters. */
const MAX_CHARS = 4096;

/** The bot token: `123456:ABC…` is written as user `123456` and password `ABC…` in the URL. */
function token(url: URL): string {
  return decodeURIComponent(url.password ? `${url.username}:${url.password}` : url.username);
}

export const telegramChannel: Channel = {
  schemes: ['telegram'],
  url: channelUrl((url) => ({ scheme: schemeOf(url), token: token(url), chats: listParam(url, 'chats') }), {
    scheme: schemeParam,
    token: v.pipe(v.string(), v.regex(/^\d+:[A-Za-z0-9_-]+$/, 'the bot token goes before the host: telegram://123456:ABC-DEF@api.telegram.org?chats=…')),
    chats: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.regex(/^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$/, (i) => `chats: ${JSON.stringify(i.input)} is not a chat id (a number, or @channel)`),
        ),
      ),
      v.minLength(1, 'chats= must list at least one chat id (a number, or @channel)'),
    ),
  }),
  async send(url, message, ctx) {
    const text = `${message.title}\n${renderText(message, MAX_CHARS - message.title.length - 1)}`;
    const target = serviceUrl(url, `/bot${token(url)}/sendMessage`);
    for (const chat of listParam(url, 'chats')) {
      await postJson(target, { chat_id: chat, text, link_preview_options: { is_disabled: true } }, ctx);
    }
  },
};
