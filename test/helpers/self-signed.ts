// A self-signed certificate for 127.0.0.1 made with the real openssl, as docs/tls.md tells a user to.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OPENSSL = '/usr/bin/openssl';

export interface CertPair {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A fresh key and self-signed certificate in `dir`, valid for IP 127.0.0.1 and DNS localhost. */
export function selfSignedPair(dir: string, name = 'hub'): CertPair {
  if (!existsSync(OPENSSL)) throw new Error(`${OPENSSL} not found: these tests make a real certificate with openssl (apt-get install openssl)`);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  // EC P-256: as valid as RSA for this and made in milliseconds.
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
