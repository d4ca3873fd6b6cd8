// Whether a listener's host is reachable only from this machine: the one place where running
// without credentials (--insecure) is allowed.

/** True for a host that only this machine can reach: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
