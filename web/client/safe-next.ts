// Where the login page may send the browser afterwards: only a path on this site, so that a link
// like /login?next=https://evil.example cannot turn our login into someone else's redirect.

/** `next` when it is a same-site path ("/nodes/pi?x=1"), else "/". */
export function safeNext(next: string | null, origin: string): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || /[\\\u0000-\u001f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== origin || url.pathname.startsWith('/login')) return '/';
  return url.pathname + url.search + url.hash;
}
