/**
 * The release spool record: what the plugin writes (one `<containerId>_<ifName>.json` file per attachment,
 * see spoolFileName) when DEL cannot reach the agent, and what the agent replays. Versioned like requests:
 * the record carries the protocol version of the plugin that wrote it, and an agent reads its own and the
 * previous version.
 */

import { ProtocolDecodeError } from './decode-error.ts';
import { asObject, integerField, optionalString, stringField } from './fields.ts';
import { decodeAttachment } from './messages.ts';
import type { Attachment } from './types.ts';
import { PROTOCOL_VERSION, ProtocolSkewError, withinWindow } from './version.ts';

export interface SpooledRelease {
  /** The protocol version the record is written in. */
  version: number;
  attachment: Attachment;
  /** The pod IP, when the plugin knew it (prevResult, or the host route). */
  ip?: string;
  /** RFC 3339. */
  spooledAt: string;
}

export function newSpooledRelease(attachment: Attachment, ip: string | undefined, now: Date): SpooledRelease {
  const out: SpooledRelease = { version: PROTOCOL_VERSION, attachment, spooledAt: now.toISOString() };
  if (ip !== undefined) out.ip = ip;
  return out;
}

/** The file's text: indented JSON and a newline, for people who look into the spool. */
export function encodeSpooledRelease(release: SpooledRelease): string {
  return `${JSON.stringify(release, null, 2)}\n`;
}

/**
 * Decodes a spool file's text in the current shape. A record of a version outside the reader's window
 * throws ProtocolSkewError (keep the file: a finished rollout reads it), anything else malformed a
 * ProtocolDecodeError.
 */
export function decodeSpooledRelease(text: string, readerVersion: number = PROTOCOL_VERSION): SpooledRelease {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolDecodeError('spool record', 'JSON', text);
  }
  const o = asObject(value, 'spool record');
  const version = integerField(o, 'version', '', 1);
  if (!withinWindow(version, readerVersion)) throw new ProtocolSkewError(version, readerVersion);
  const out: SpooledRelease = {
    version,
    attachment: decodeAttachment(o['attachment'], 'attachment', 'del', version),
    spooledAt: stringField(o, 'spooledAt', '', 'non-empty'),
  };
  const ip = optionalString(o, 'ip', '');
  if (ip !== undefined) out.ip = ip;
  return out;
}
