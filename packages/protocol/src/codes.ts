/**
 * The one table of CNI error codes that hostnic reports, on both sides of the socket. Codes below 100 are
 * the CNI spec's well-known ones; 100 and up are hostnic's own (the spec leaves them to plugins).
 */
export const CniCode = {
  /** The plugin does not speak the cniVersion of the config. */
  incompatibleVersion: 1,
  /** A config key has a value the plugin does not support. */
  unsupportedField: 2,
  /** The container (attachment) is unknown or does not exist. */
  unknownContainer: 3,
  /** A required environment variable or CNI_ARGS key is missing or invalid. */
  invalidEnv: 4,
  /** An I/O failure, e.g. reading stdin. */
  io: 5,
  /** Content could not be decoded, e.g. the plugin's stdin is not JSON. */
  decode: 6,
  /** Invalid network configuration; also a request the agent refuses as malformed (the field is named). */
  invalidConfig: 7,
  /** Try again later: the condition goes away by itself (also: plugin and agent mid-rollout). */
  tryAgain: 11,
  /** STATUS: the plugin cannot serve ADD now. */
  notAvailable: 50,
  /** STATUS: existing pods may have limited connectivity too. */
  limitedConnectivity: 51,
  ipam: 100,
  nic: 101,
  wiring: 102,
  arpReply: 103,
  datastore: 104,
  checkMismatch: 105,
  badAnnotation: 106,
  conflict: 107,
  /** Anything without a better code; the original plugin reported every failure as 999. */
  internal: 999,
} as const;

export type CniCodeName = keyof typeof CniCode;
