// The session cookie: {user, role, password stamp, expiry} signed with HMAC-SHA256 (Hono's signed
// cookies) under the secret in auth.db. Nothing is stored per session, so any web process over the
// same database accepts it; the middleware still re-reads the user, so a removed user, a lowered
// role or a changed password take effect at once.
import { createHmac } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import { webRoleProblem, type WebRole, type WebUserRecord } from '../../auth/web-users.ts';

export const SESSION_COOKIE = 'rm_session';
/** Readable by the page's JS, which echoes it in X-CSRF-Token (double submit). */
export const CSRF_COOKIE = 'rm_csrf';
export const CSRF_HEADER = 'x-csrf-token';

interface SessionClaims {
  u: string;
  r: WebRole;
  /** The password version (WebUserRecord.stamp): a new password ends older sessions. */
  s: string;
  /** Expiry, epoch ms. */
  exp: number;
}

// WebCrypto wants a plain ArrayBuffer view, which a pooled Buffer may not be.
const signingKey = (secret: Buffer) => new Uint8Array(secret);

/** True when the request reached us over TLS; @hono/node-server gives c.req.url an https: scheme then. */
export const cameOverHttps = (c: Context) => new URL(c.req.url).protocol === 'https:';

const cookieOptions = (c: Context, maxAgeS: number, httpOnly: boolean) =>
  ({ path: '/', httpOnly, sameSite: 'Strict', secure: cameOverHttps(c), maxAge: maxAgeS }) as const;

/**
 * The CSRF token of a session: an HMAC of the signed session cookie, so an attacker who can plant
 * cookies (a sibling subdomain) still cannot make a token that matches the victim's session.
 */
export function csrfTokenFor(sessionCookie: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(`csrf:${sessionCookie}`).digest('base64url');
}

export async function issueSession(c: Context, who: WebUserRecord, secret: Buffer, nowMs: number, ttlMs: number): Promise<void> {
  const claims: SessionClaims = { u: who.name, r: who.role, s: who.stamp, exp: nowMs + ttlMs };
  const value = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const maxAgeS = Math.floor(ttlMs / 1000);
  await setSignedCookie(c, SESSION_COOKIE, value, signingKey(secret), cookieOptions(c, maxAgeS, true));
  // The signed form as the browser will send it back; the CSRF token is derived from it.
  const sent = /rm_session=([^;]*)/.exec(c.res.headers.getSetCookie().findLast((h) => h.startsWith(`${SESSION_COOKIE}=`)) ?? '')?.[1] ?? '';
  setCookie(c, CSRF_COOKIE, csrfTokenFor(decodeURIComponent(sent), secret), cookieOptions(c, maxAgeS, false));
}

export function clearSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: cameOverHttps(c) });
  deleteCookie(c, CSRF_COOKIE, { path: '/', sameSite: 'Strict', secure: cameOverHttps(c) });
}

/** The claims of a valid, unexpired session cookie, and the raw cookie (for the CSRF check); else null. */
export async function readSession(c: Context, secret: Buffer, nowMs: number): Promise<{ name: string; role: WebRole; stamp: string; raw: string } | null> {
  const raw = getCookie(c, SESSION_COOKIE);
  if (!raw || raw.length > 4096) return null;
  const value = await getSignedCookie(c, signingKey(secret), SESSION_COOKIE);
  if (!value) return null;
  let claims: Partial<SessionClaims>;
  try {
    claims = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<SessionClaims>;
  } catch {
    return null;
  }
  if (typeof claims.u !== 'string' || typeof claims.s !== 'string' || webRoleProblem(claims.r) || typeof claims.exp !== 'number' || claims.exp <= nowMs)
    return null;
  return { name: claims.u, role: claims.r!, stamp: claims.s, raw };
}
