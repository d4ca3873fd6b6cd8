// What the agent says when the broker refuses its CONNECT for its credentials: who it tried as,
// what is wrong, which flags to pass and where a token comes from. Said once, then at most once a
// minute while the refusals go on (the agent keeps retrying, with backoff).

/** CONNACK return codes about credentials: 4 bad user name or password, 5 not authorized (MQTT 3.1.1 §3.2.2.3); 134, 135 in MQTT 5. */
const CREDENTIAL_REFUSALS = new Set([4, 5, 134, 135]);

export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export interface Credentials {
  node: string;
  username?: string;
  password?: string;
}

/** The advice for a refused CONNECT with return code `code`, or null when the refusal is not about credentials. */
export function refusalAdvice(code: unknown, { node, username, password }: Credentials): string | null {
  if (typeof code !== 'number' || !CREDENTIAL_REFUSALS.has(code)) return null;
  const who = username ? `node "${node}" as user "${username}"` : `node "${node}" with no --username`;
  const problem = !password
    ? 'no token was given (--password), and this broker needs one'
    : username && username !== node
      ? `the user name must be the node name, and the token that node's`
      : code === 5 || code === 135
        ? `the token is not this node's`
        : 'the token is wrong, or was revoked';
  return (
    `the broker refused ${who}: ${problem}. ` +
    `Pass --username ${node} --password TOKEN (or REMONITOR_USERNAME and REMONITOR_PASSWORD, or "username" and "password" in the --config file); ` +
    `\`remonitor node add ${node}\` on the hub makes a token. Retrying; this is logged at most once a minute`
  );
}

/** Says yes at most once per `intervalMs`; `reset` makes the next call say yes again. */
export class OncePer {
  private lastMs = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  due(): boolean {
    const now = this.now();
    if (now - this.lastMs < this.intervalMs) return false;
    this.lastMs = now;
    return true;
  }

  reset(): void {
    this.lastMs = -Infinity;
  }
}
