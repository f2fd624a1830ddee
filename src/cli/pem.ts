// TLS files given on the command line: checked to be PEM before OpenSSL reads them (whose error for
// anything else is a bare "no start line").
import { readTextFile } from '../index.js';
import { UsageError } from './errors.js';

/** The bytes of a PEM file (certificate, key or CA), or a UsageError naming the flag and the file. */
export function readPem(flag: string, path: string, what: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: ${(e as Error).message}`, `pass a PEM file (-----BEGIN ${what}-----)`);
  }
  const re = what === 'CERTIFICATE' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
  if (!re.test(text)) throw new UsageError(`${flag} ${path} is not a PEM ${what.toLowerCase()} (no -----BEGIN ${what}----- line)`, 'pass the PEM file, e.g. from `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem`');
  return Buffer.from(text);
}
