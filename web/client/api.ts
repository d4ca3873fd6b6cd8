// Fetch helpers for the REST API, and the one error banner each page shows.
import type { ApiError, NodeDetailResponse, NodesResponse, SeriesMetric, SeriesResponse } from '../../shared/api-types.ts';

/** A failed API call; `status` is the HTTP status, 0 when the request never got an answer. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

let leaving = false;
/** The session expired: to the login page, and back here after it. Once, however many calls failed. */
function toLoginPage(): void {
  if (leaving || location.pathname.startsWith('/login')) return;
  leaving = true; // a second assign would abort the first navigation
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, signal: signal ?? null });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiFailure(`cannot reach the server (${path}): ${(err as Error).message}`, 0);
  }
  if (res.status === 401) toLoginPage();
  if (!res.ok) {
    // Errors are `{error}` JSON; anything else (a proxy's HTML page) falls back to the status line.
    let message = `${res.status} ${res.statusText}`.trim();
    try {
      const body = (await res.json()) as Partial<ApiError>;
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiFailure(message, res.status);
  }
  return (await res.json()) as T;
}

/**
 * Headers for a state-changing request: the session's CSRF token, read from the rm_csrf cookie
 * (web/auth/session-cookie.ts), echoed in X-CSRF-Token. Without a login the cookie is absent and
 * an open hub does not ask for it.
 */
export function csrfHeaders(headers: Record<string, string> = {}): Record<string, string> {
  const token = /(?:^|;\s*)rm_csrf=([^;]*)/.exec(document.cookie)?.[1];
  return token ? { ...headers, 'x-csrf-token': decodeURIComponent(token) } : headers;
}

/** The series API refuses more points than this (web/app.ts). */
const MAX_POINTS = 5000;

export const api = {
  nodes: (signal?: AbortSignal) => getJson<NodesResponse>('/api/nodes', signal),
  node: (node: string, signal?: AbortSignal) => getJson<NodeDetailResponse>(`/api/nodes/${encodeURIComponent(node)}`, signal),
  /** `from`/`to`: epoch ms or relative (`-15m`, `now`); `points` caps the number of points returned. */
  series: (node: string, metrics: readonly SeriesMetric[], from: string | number, to: string | number, points: number, signal?: AbortSignal) => {
    const q = new URLSearchParams({
      metrics: metrics.join(','),
      from: String(from),
      to: String(to),
      points: String(Math.min(MAX_POINTS, Math.max(2, Math.round(points)))),
    });
    return getJson<SeriesResponse>(`/api/nodes/${encodeURIComponent(node)}/series?${q}`, signal);
  },
};

/** Runs at most `n` tasks at once; the rest wait in order. */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    running--;
    waiting.shift()?.();
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        running++;
        task().then(resolve, reject).finally(next);
      };
      if (running < n) run();
      else waiting.push(run);
    });
}

/**
 * Shows `message` in the page's `#error` banner (role=alert), or hides it for null. One banner per
 * page: the newest problem wins, and `clearError(key)` only clears a message set with the same key.
 */
let errorKey: string | null = null;
export function showError(message: string | null, key = 'default'): void {
  const el = document.getElementById('error');
  if (!el) return;
  if (message === null) {
    if (errorKey !== key) return;
    errorKey = null;
    el.hidden = true;
    el.textContent = '';
    return;
  }
  errorKey = key;
  el.textContent = message;
  el.hidden = false;
}

export function clearError(key = 'default'): void {
  showError(null, key);
}
