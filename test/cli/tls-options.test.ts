// --tls-cert/--tls-key/--mqtts-port as a table of cases over real files made by openssl: each bad
// setup is refused at once, naming the file and what is wrong with it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTls, tlsSpec } from '../../cli/tls-options.ts';
import { OptionsError, resolveOptions } from '../../shared/options.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';
import { selfSignedPair } from '../helpers/self-signed.ts';

afterEach(runCleanups);

const load = (argv: string[]) => loadTls(resolveOptions(tlsSpec, argv, {}).values);

/** The problems loadTls reports, joined; fails the test when it does not throw an OptionsError. */
function problems(argv: string[]): string {
  try {
    load(argv);
  } catch (err) {
    if (err instanceof OptionsError) return err.problems.join('\n');
    throw err;
  }
  throw new Error(`loadTls accepted ${argv.join(' ')}`);
}

describe('loadTls', () => {
  it('is null without TLS flags, and reads a matching pair with the mqtts port (8883 by default)', () => {
    expect(load([])).toBeNull();
    const pair = selfSignedPair(tempDir());
    const tls = load(['--tls-cert', pair.certFile, '--tls-key', pair.keyFile]);
    expect(tls).toEqual({ cert: pair.cert, key: pair.key, mqttsPort: 8883 });
    expect(load(['--tls-cert', pair.certFile, '--tls-key', pair.keyFile, '--mqtts-port', '18883'])?.mqttsPort).toBe(18883);
  });

  it('refuses each bad setup with the file and the reason', () => {
    const dir = tempDir();
    const pair = selfSignedPair(dir, 'hub');
    const other = selfSignedPair(dir, 'other');
    const notPem = join(dir, 'hub.der');
    writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    const missing = join(dir, 'missing.crt');
    const cases: [argv: string[], expected: RegExp][] = [
      [['--tls-cert', pair.certFile], /--tls-cert .*hub\.crt needs --tls-key too/],
      [['--tls-key', pair.keyFile], /--tls-key .*hub\.key needs --tls-cert too/],
      [['--tls-cert', missing, '--tls-key', pair.keyFile], /--tls-cert .*missing\.crt: cannot read the file \(ENOENT\)/],
      [['--tls-cert', notPem, '--tls-key', pair.keyFile], /--tls-cert .*hub\.der: not a PEM certificate/],
      [['--tls-cert', pair.certFile, '--tls-key', notPem], /--tls-key .*hub\.der: not a PEM private key/],
      [
        ['--tls-cert', pair.keyFile, '--tls-key', pair.certFile],
        /--tls-cert .*hub\.key: not a PEM certificate[\s\S]*--tls-key .*hub\.crt: not a PEM private key/,
      ],
      [['--tls-cert', pair.certFile, '--tls-key', other.keyFile], /hub\.crt and --tls-key .*other\.key do not make a pair: .*key values mismatch/],
    ];
    for (const [argv, expected] of cases) expect(problems(argv), argv.join(' ')).toMatch(expected);
  });

  it('refuses an expired certificate', () => {
    const pair = selfSignedPair(tempDir());
    const inThreeDays = Date.now() + 3 * 86_400_000; // the test pair is valid for 2 days
    expect(() => loadTls({ tlsCert: pair.certFile, tlsKey: pair.keyFile, mqttsPort: 8883 }, inThreeDays)).toThrow(/expired on .*clients will refuse it/);
  });

  it('refuses a port that is not one', () => {
    expect(() => load(['--mqtts-port', '70000'])).toThrow(/--mqtts-port: must be a port number/);
  });
});
