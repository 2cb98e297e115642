export { CniCode } from './codes.ts';
export type { CniCodeName } from './codes.ts';
export { LATEST_CNI_VERSION, SUPPORTED_CNI_VERSIONS, isSupportedCniVersion } from './cni-versions.ts';
export type { CniVersion } from './cni-versions.ts';
export { ProtocolDecodeError } from './decode-error.ts';
export { encodeRequest } from './encode.ts';
export type { AgentRequest, AttachmentV1 } from './encode.ts';
export {
  decodeAddRequest,
  decodeAddResponse,
  decodeAgentErrorBody,
  decodeAttachment,
  decodeCheckRequest,
  decodeCniResult,
  decodeDelRequest,
  decodeEmptyResponse,
  decodeGcRequest,
  decodeGcResponse,
  decodePluginConfig,
  decodeStatusResponse,
} from './messages.ts';
export type { AttachmentRule } from './messages.ts';
export { AgentPath, DEFAULT_AGENT_SOCKET, DEFAULT_SPOOL_DIR, lockPathFor, spoolFileName } from './paths.ts';
export type { AgentPathName } from './paths.ts';
export { decodeSpooledRelease, encodeSpooledRelease, newSpooledRelease } from './spool.ts';
export type { SpooledRelease } from './spool.ts';
export type * from './types.ts';
export {
  PREVIOUS_PROTOCOL_VERSION,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  ProtocolSkewError,
  UNVERSIONED,
  acceptRequestVersion,
  judgeAnswer,
  protocolVersionOf,
  withinWindow,
} from './version.ts';
export type { AnswerVerdict } from './version.ts';
