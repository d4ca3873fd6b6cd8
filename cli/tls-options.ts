// TLS options shared by the server commands: one PEM certificate (chain) and its key serve mqtts,
// secure WebSocket and HTTPS alike. The files are read and checked once at setup, so a wrong path or
// a mismatched pair stops the command with the file named instead of failing each handshake later.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { OptionsError, textOption, valueOption } from '../shared/options.ts';
import { port } from '../shared/option-schemas.ts';

export const DEFAULT_MQTTS_PORT = 8883; // IANA's port for MQTT over TLS

export const tlsSpec = {
  tlsCert: textOption('tls-cert', 'PEM certificate (chain) for mqtts, wss and https; needs --tls-key'),
  tlsKey: textOption('tls-key', 'PEM private key of --tls-cert'),
  mqttsPort: valueOption({ flag: 'mqtts-port', help: 'MQTT over TLS port (with --tls-cert)', default: DEFAULT_MQTTS_PORT, schema: port }),
};

export interface TlsValues {
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly mqttsPort: number;
}

export interface LoadedTls {
  cert: Buffer;
  key: Buffer;
  mqttsPort: number;
}

/**
 * The certificate and key read and checked, or null when neither flag is given. Throws an
 * OptionsError listing every problem with its file: one flag without the other, an unreadable
 * file, a file that is not PEM, a key that does not belong to the certificate, an expired certificate.
 */
export function loadTls(values: TlsValues, now = Date.now()): LoadedTls | null {
  const { tlsCert, tlsKey } = values;
  if (tlsCert === undefined && tlsKey === undefined) return null;
  if (tlsCert === undefined || tlsKey === undefined) {
    throw new OptionsError([tlsCert === undefined ? `--tls-key ${tlsKey} needs --tls-cert too` : `--tls-cert ${tlsCert} needs --tls-key too`]);
  }
  const problems: string[] = [];
  const cert = readPem(tlsCert, '--tls-cert', /-----BEGIN CERTIFICATE-----/, 'a PEM certificate (-----BEGIN CERTIFICATE-----)', problems);
  const key = readPem(tlsKey, '--tls-key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a PEM private key (-----BEGIN PRIVATE KEY-----)', problems);
  if (cert && key) {
    try {
      createSecureContext({ cert, key }); // OpenSSL checks that the key matches the certificate
    } catch (err) {
      problems.push(`--tls-cert ${tlsCert} and --tls-key ${tlsKey} do not make a pair: ${(err as Error).message}`);
    }
    try {
      const x509 = new X509Certificate(cert);
      const notAfter = Date.parse(x509.validTo);
      if (notAfter < now) problems.push(`--tls-cert ${tlsCert}: the certificate expired on ${x509.validTo}; clients will refuse it`);
    } catch (err) {
      problems.push(`--tls-cert ${tlsCert}: cannot parse the certificate: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new OptionsError(problems);
  return { cert: cert!, key: key!, mqttsPort: values.mqttsPort };
}

function readPem(path: string, flag: string, marker: RegExp, expected: string, problems: string[]): Buffer | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    problems.push(`${flag} ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return null;
  }
  if (!marker.test(bytes.toString('latin1'))) {
    problems.push(`${flag} ${path}: not ${expected}; convert DER with \`openssl x509 -inform der\` or \`openssl pkey -inform der\``);
    return null;
  }
  return bytes;
}
