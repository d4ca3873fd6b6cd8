// Who made a request, as the auth middleware resolved it; routes read it with c.get('caller').
import type { WebIdentity } from '../../auth/web-users.ts';

export interface Caller extends WebIdentity {
  /** A session cookie carries ambient authority (CSRF applies); a bearer token does not. */
  via: 'session' | 'token';
}

declare module 'hono' {
  interface ContextVariableMap {
    caller: Caller;
  }
}
