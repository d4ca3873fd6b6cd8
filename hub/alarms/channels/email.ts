// E-mail over SMTP with nodemailer. `smtp://[user:password@]host[:port]?from=…&to=…[,…]` speaks
// STARTTLS when the server offers it (port 587 unless given), and requires it when the URL carries
// a password, so credentials never cross in clear; `smtps://` is TLS from the first byte (port 465).
// The host is judged like every destination (destination.ts) and the connection goes to the
// checked address, the certificate still checked against the name.
import { isIP } from 'node:net';
import { createTransport } from 'nodemailer';
import { checkedAddress } from '../destination.ts';
import * as v from 'valibot';
import { channelUrl, listParam, renderText, type Channel } from './channel.ts';

const ADDRESS = /^[^\s@<>,;"]{1,64}@[A-Za-z0-9.-]{1,253}$/;

export const emailChannel: Channel = {
  schemes: ['smtp', 'smtps'],
  url: channelUrl((url) => ({ from: url.searchParams.get('from'), to: listParam(url, 'to'), path: url.pathname }), {
    from: v.pipe(
      v.string((i) => `from= must be one e-mail address, got ${JSON.stringify(i.input)}`),
      v.regex(ADDRESS, (i) => `from= must be one e-mail address, got ${JSON.stringify(i.input)}`),
    ),
    to: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.regex(ADDRESS, (i) => `to: ${JSON.stringify(i.input)} is not an e-mail address`),
        ),
      ),
      v.minLength(1, 'to= must list at least one e-mail address'),
    ),
    path: v.picklist(['', '/'], (i) => `an SMTP URL has no path, got ${JSON.stringify(i.input)}`),
  }),
  async send(url, message, ctx) {
    const secure = url.protocol === 'smtps:';
    const name = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const host = await checkedAddress(url.hostname, ctx.resolve);
    const user = decodeURIComponent(url.username);
    const transport = createTransport({
      host,
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      requireTLS: !secure && url.password !== '',
      auth: user ? { user, pass: decodeURIComponent(url.password) } : undefined,
      // The certificate is checked against the name; an address is no name to send (RFC 6066).
      tls: isIP(name) ? {} : { servername: name },
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
    });
    try {
      await transport.sendMail({
        from: url.searchParams.get('from')!,
        to: listParam(url, 'to'),
        subject: message.title,
        text: renderText(message),
      });
    } finally {
      transport.close();
    }
  },
};
