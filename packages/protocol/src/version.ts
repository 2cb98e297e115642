/**
 * Protocol versions. Every request carries its version in the `x-hostnic-protocol` header (a request
 * without it is version 1: the header was not read before version 2), and every answer of a versioned
 * agent carries the version it answers in. An agent serves requests of its own and the previous version;
 * a plugin understands answers of its own and the previous version. A newer plugin refused by an agent one
 * version behind sends the request again in that version, so that both directions of a rollout work; pairs
 * further apart fail with ProtocolSkewError (CNI code 11: the runtime retries until the rollout is done).
 */

import { CniCode } from './codes.ts';
import { ProtocolDecodeError } from './decode-error.ts';

export const PROTOCOL_VERSION = 2;
/** The oldest version this release still serves and understands. */
export const PREVIOUS_PROTOCOL_VERSION = PROTOCOL_VERSION - 1;
export const PROTOCOL_HEADER = 'x-hostnic-protocol';
/** What a message without a version is: the contract before versions were checked. */
export const UNVERSIONED = 1;

/** Plugin and agent are more than one protocol version apart. */
export class ProtocolSkewError extends Error {
  override name = 'ProtocolSkewError';
  readonly code = CniCode.tryAgain;
  readonly plugin: number;
  readonly agent: number;
  readonly details: string;

  constructor(plugin: number, agent: number) {
    super(`plugin ${plugin}, agent ${agent}: finish the rollout`);
    this.plugin = plugin;
    this.agent = agent;
    this.details =
      `the hostnic plugin speaks protocol ${plugin} and hostnic-agent protocol ${agent}; each side serves its own ` +
      'and the previous version only. Roll the hostnic-node DaemonSet out to one release on every node ' +
      '(kubectl -n kube-system rollout status ds/hostnic-node); the runtime retries meanwhile';
  }
}

/** The version of a header value; absent means {@link UNVERSIONED}. */
export function protocolVersionOf(header: string | readonly string[] | undefined): number {
  if (header === undefined) return UNVERSIONED;
  const text = typeof header === 'string' ? header : header.join(',');
  if (!/^[1-9]\d{0,5}$/.test(text.trim())) {
    throw new ProtocolDecodeError(`header ${PROTOCOL_HEADER}`, 'a protocol version (a positive integer)', text);
  }
  return Number(text.trim());
}

/** Whether `own` serves or understands messages of version `peer`. */
export function withinWindow(peer: number, own: number = PROTOCOL_VERSION): boolean {
  return peer === own || peer === own - 1;
}

/** The agent's judgement of a request: throws ProtocolSkewError outside its window. */
export function acceptRequestVersion(requestVersion: number, agentVersion: number = PROTOCOL_VERSION): number {
  if (!withinWindow(requestVersion, agentVersion)) throw new ProtocolSkewError(requestVersion, agentVersion);
  return requestVersion;
}

export type AnswerVerdict =
  /** Decode the answer as this version. */
  | { kind: 'accept'; version: number }
  /** The agent refused our version but serves this older one that we speak too: send again in it. */
  | { kind: 'resend'; version: number }
  | { kind: 'skew'; error: ProtocolSkewError };

/**
 * The plugin's judgement of an answer to a request sent in version `sent`. `refused` is true for an error
 * answer in another version than the one sent: the agent could not serve that version.
 */
export function judgeAnswer(sent: number, answered: number, refused: boolean, pluginVersion: number = PROTOCOL_VERSION): AnswerVerdict {
  if (!withinWindow(answered, pluginVersion)) return { kind: 'skew', error: new ProtocolSkewError(pluginVersion, answered) };
  if (refused && answered !== sent) {
    return answered < sent ? { kind: 'resend', version: answered } : { kind: 'skew', error: new ProtocolSkewError(pluginVersion, answered) };
  }
  return { kind: 'accept', version: answered };
}
