// Cross-site request forgery: a state-changing request that rides on the session cookie must
// (1) come from our own origin, by Origin and Sec-Fetch-Site when the browser sends them, and
// (2) echo the session's CSRF token in X-CSRF-Token (double submit), which a foreign page
// cannot read. Hono's csrf() covers (1) for form content types only, hence the token too.
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { CSRF_HEADER, csrfTokenFor } from './session-cookie.ts';

/**
 * Origin and Sec-Fetch-Site: null when the request may come from our own pages, else why not.
 * Hosts are compared, not schemes, so that a TLS-terminating proxy in front still matches.
 */
export function crossSiteProblem(c: Context): string | null {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${JSON.stringify(site)}, expected same-origin`;
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      // "null" (a sandboxed frame) and other non-URLs are foreign
    }
    if (host !== new URL(c.req.url).host) return `Origin ${JSON.stringify(origin)} is not this site`;
  }
  return null;
}

/** Both checks for a cookie-authenticated state-changing request; null when it passes. */
export function csrfProblem(c: Context, sessionCookie: string, secret: Buffer): string | null {
  const crossSite = crossSiteProblem(c);
  if (crossSite) return crossSite;
  const sent = c.req.header(CSRF_HEADER);
  if (!sent) return 'missing X-CSRF-Token header (copy it from the rm_csrf cookie)';
  const expected = Buffer.from(csrfTokenFor(sessionCookie, secret));
  const actual = Buffer.from(sent);
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? null : 'X-CSRF-Token does not match this session';
}
