/**
 * Requests in the shape of a given protocol version: the current plugin writes the current version, and
 * the previous one when an agent one release behind refuses it.
 */

import type { AddRequest, Attachment, CheckRequest, DelRequest, GcRequest } from './types.ts';
import { PROTOCOL_VERSION, ProtocolSkewError } from './version.ts';

export type AgentRequest = AddRequest | DelRequest | CheckRequest | GcRequest;

/** A version 1 attachment: no `kubernetesPod` (every workload was a pod). */
export type AttachmentV1 = Omit<Attachment, 'kubernetesPod'>;

function attachmentIn(a: Attachment, version: number): Attachment | AttachmentV1 {
  if (version >= 2) return a;
  // A version 1 agent would read annotations and patch the status of a pod that does not exist.
  if (!a.kubernetesPod) throw new ProtocolSkewError(PROTOCOL_VERSION, version);
  const { kubernetesPod: _dropped, ...v1 } = a;
  return v1;
}

/** The body of `request` as an agent of `version` reads it; throws ProtocolSkewError when it cannot be said there. */
export function encodeRequest(request: AgentRequest, version: number = PROTOCOL_VERSION): object {
  if (version >= PROTOCOL_VERSION || !('attachment' in request)) return request;
  return { ...request, attachment: attachmentIn(request.attachment, version) };
}
