// The CI line the sessions page suggests: fetch the single-file `remonitor record` from this hub
// and run the tests under it, publishing the session here with a CI node's token.

/** The hub's address as the browser reached it; the broker is assumed on its host at the default port. */
export function ciRecordLine(origin: string, hostname: string): string {
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return (
    `curl -fsSLO ${origin}/agent/remonitor-record.mjs && ` +
    `REMONITOR_PASSWORD=TOKEN node remonitor-record.mjs --broker mqtt://${host}:1883 --username ci --fail-on-leak -- npm test`
  );
}
