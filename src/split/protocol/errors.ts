// Every way a frame can be refused. Decoders throw ProtocolError and nothing else, so a transport
// can turn any bad input into an `error` message for the peer instead of crashing.

import { RevertlmError } from '../../util/errors.js';
export const PROTOCOL_ERROR_CODES = [
  'bad_magic',
  'unsupported_version',
  'truncated',
  'trailing_bytes',
  'header_json',
  'schema',
  'unknown_type',
  'checksum',
  'dtype',
  'shape',
  'bad_value',
  'too_large',
  'sequence',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export class ProtocolError extends RevertlmError {
  override name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export function isProtocolErrorCode(s: string): s is ProtocolErrorCode {
  return (PROTOCOL_ERROR_CODES as readonly string[]).includes(s);
}
