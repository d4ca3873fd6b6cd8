// Where alarm notifications may go. A channel's URL is checked when a rule is saved (its
// scheme, and its host when that is an address or a metadata service's name) and again when a
// notification is sent, after DNS: every address the name resolves to is checked, and the
// connection goes to the checked addresses only, so a name cannot answer differently in between.
// Redirects are not followed (one could lead anywhere).
//
// Always refused: unspecified addresses (0.0.0.0/8, ::), link-local (169.254/16, fe80::/10; cloud
// metadata answers at 169.254.169.254), the cloud metadata services' names and other addresses,
// multicast, broadcast and reserved space, also inside IPv4-mapped and NAT64 IPv6 addresses.
// Allowed: public addresses, private networks (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10)
// and loopback: people run ntfy or Gotify on their LAN or on the hub itself. A notification
// carries no credential of the hub and a fixed body, and the hub's own API refuses it (401).
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import * as v from 'valibot';

interface Refused {
  reason: string;
  ipv4?: [string, number][];
  ipv6?: [string, number][];
}

const REFUSED: Refused[] = [
  { reason: 'is an unspecified address ("this host")', ipv4: [['0.0.0.0', 8]], ipv6: [['::', 128]] },
  {
    reason: 'is a cloud metadata service',
    // Alibaba, Oracle (legacy), Azure's platform address, AWS over IPv6; the others answer at 169.254.169.254.
    ipv4: [
      ['100.100.100.200', 32],
      ['192.0.0.192', 32],
      ['168.63.129.16', 32],
    ],
    ipv6: [['fd00:ec2::254', 128]],
  },
  { reason: 'is link-local, where cloud metadata services answer (169.254.169.254)', ipv4: [['169.254.0.0', 16]], ipv6: [['fe80::', 10]] },
  { reason: 'is multicast', ipv4: [['224.0.0.0', 4]], ipv6: [['ff00::', 8]] },
  { reason: 'is reserved or broadcast', ipv4: [['240.0.0.0', 4]] },
];

/** Names that only ever lead to a metadata service (GCP, AWS), lower case, without a final dot. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** NAT64 (RFC 6052): an IPv6-only host reaches IPv4 address a.b.c.d at 64:ff9b::a.b.c.d. */
function nat64(ipv4: string): string {
  const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
  return `64:ff9b::${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

// One list per reason, so a refusal can say why. BlockList matches IPv4-mapped IPv6 addresses
// (::ffff:169.254.169.254) against the IPv4 subnets itself; NAT64 ones are added here.
const LISTS = REFUSED.map(({ reason, ipv4 = [], ipv6 = [] }) => {
  const list = new BlockList();
  for (const [address, prefix] of ipv4) {
    list.addSubnet(address, prefix, 'ipv4');
    list.addSubnet(nat64(address), 96 + prefix, 'ipv6');
  }
  for (const [address, prefix] of ipv6) list.addSubnet(address, prefix, 'ipv6');
  return { reason, list };
});

/** Why notifications may not go to this IP address, or null when they may. */
export function addressProblem(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return `${JSON.stringify(address)} is not an IP address`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const hit = LISTS.find(({ list }) => list.check(address, type));
  return hit ? `${address} ${hit.reason}` : null;
}

/** The URL's host as an address, without IPv6 brackets, or null for a name. */
function hostAddress(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) ? host : null;
}

const httpUrlProblem = (value: unknown) => `must be an http(s) URL, got ${JSON.stringify(value)}`;

function httpUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * An http(s) URL notifications may go to as written (a webhook, an ntfy topic). Checked when a rule
 * is saved; a name is judged again by what it resolves to when a notification is sent.
 */
export const DestinationUrlSchema = v.pipe(
  v.string((i) => httpUrlProblem(i.input)),
  v.check(
    (text) => httpUrl(text) !== null,
    (i) => httpUrlProblem(i.input),
  ),
  v.check(
    (text) => httpUrl(text) === null || hostProblem(httpUrl(text)!) === null,
    (i) => hostProblem(httpUrl(i.input as string)!) ?? '',
  ),
);

/** Why notifications may not go to this URL as written, or null (DestinationUrlSchema). */
export function destinationProblem(value: unknown): string | null {
  const result = v.safeParse(DestinationUrlSchema, value);
  return result.success ? null : result.issues[0].message;
}

/** Why notifications may not go to this URL's host as written (any scheme), or null. */
export function hostProblem(url: URL): string | null {
  if (url.hostname === '') return `${JSON.stringify(redactedUrl(url.href))} has no host; notifications need one`;
  const address = hostAddress(url);
  if (address !== null) {
    const problem = addressProblem(address);
    return problem ? `${problem}; notifications may not go there` : null;
  }
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  if (METADATA_NAMES.has(name)) return `${url.hostname} is a cloud metadata service; notifications may not go there`;
  return null;
}

/** Every address of a name, as dns.lookup with `all: true` gives them. */
export type Resolver = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS). */
export const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/** A lookup for net.connect that fails unless every address the name resolves to is allowed. */
export const checkedLookup =
  (resolve: Resolver): LookupFunction =>
  (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      const answer = callback as (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
      if (err) return answer(err, '');
      for (const { address } of addresses) {
        const problem = addressProblem(address);
        if (problem) return answer(Object.assign(new Error(`refused destination: ${hostname} resolves to ${problem}`), { code: 'EREFUSEDDESTINATION' }), '');
      }
      const first = addresses[0];
      if (!first) return answer(Object.assign(new Error(`${hostname} resolves to no address`), { code: 'ENOTFOUND' }), '');
      if (options.all) return answer(null, addresses);
      answer(null, first.address, first.family);
    });
  };

/** The first address of a name once every address it resolves to is allowed (for clients that dial themselves: SMTP). */
export function checkedAddress(hostname: string, resolve: Resolver = systemResolver): Promise<string> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(host)) {
    const problem = addressProblem(host);
    return problem ? Promise.reject(new Error(`refused destination: ${problem}`)) : Promise.resolve(host);
  }
  return new Promise((settle, reject) => {
    checkedLookup(resolve)(host, { all: false }, (err, address) => (err ? reject(err) : settle(address as string)));
  });
}

/** The URL with any user name and password masked, for logs. */
export function redactedUrl(value: string): string {
  try {
    const url = new URL(value);
    if (!url.username && !url.password) return value;
    url.username = '***';
    url.password = '';
    return url.toString();
  } catch {
    return value;
  }
}

/** Of a response body, what is kept for an error message, bytes. */
const KEPT_RESPONSE_BYTES = 2048;

/**
 * POSTs `body` to a checked destination and resolves with the response's status and the start of
 * its body (the rest is read and dropped). A user name and password in the URL go as Basic
 * authentication.
 */
export function postChecked(
  target: string,
  headers: OutgoingHttpHeaders,
  body: string,
  timeoutMs: number,
  resolve: Resolver = systemResolver,
): Promise<{ status: number; statusText: string; body: string }> {
  const problem = destinationProblem(target);
  if (problem) return Promise.reject(new Error(`refused destination: ${problem}`));
  const url = new URL(target);
  const payload = Buffer.from(body, 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((settle, reject) => {
    const req = send(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': payload.length }, lookup: checkedLookup(resolve), signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const kept: Buffer[] = [];
        let keptBytes = 0;
        res.on('data', (chunk: Buffer) => {
          if (keptBytes >= KEPT_RESPONSE_BYTES) return;
          kept.push(chunk.subarray(0, KEPT_RESPONSE_BYTES - keptBytes));
          keptBytes += Math.min(chunk.length, KEPT_RESPONSE_BYTES - keptBytes);
        });
        res.on('error', reject);
        res.on('end', () => settle({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(kept).toString('utf8') }));
        res.on('close', () => reject(new Error('the response was cut off')));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
