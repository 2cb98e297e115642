/** Where the agent listens, where the plugin spools, which file serialises ebtables, and the API paths. */

export const DEFAULT_AGENT_SOCKET = '/var/run/hostnic/hostnic.socket';

/** Where the plugin spools releases it could not deliver; the agent replays every file here. */
export const DEFAULT_SPOOL_DIR = '/var/lib/hostnic/spool';

export const AgentPath = {
  add: '/v1/cni/add',
  del: '/v1/cni/del',
  check: '/v1/cni/check',
  gc: '/v1/cni/gc',
  status: '/v1/status',
  pods: '/v1/pods',
  nics: '/v1/nics',
  pools: '/v1/pools',
} as const;

export type AgentPathName = keyof typeof AgentPath;

/**
 * The lock file that the agent and the plugin's agent-down DEL both take around ebtables: `hostnic.lock` in
 * the socket's directory, so that a socket moved elsewhere (tests, a second agent) brings its lock along.
 */
export function lockPathFor(socketPath: string): string {
  const slash = socketPath.lastIndexOf('/');
  return `${slash < 0 ? '' : socketPath.slice(0, slash + 1)}hostnic.lock`;
}

/**
 * The spool file of an attachment: `<containerId>_<ifName>.json`. CNI forbids "/" in CNI_IFNAME and
 * container ids are runtime ids, so the name stays inside the spool directory.
 */
export function spoolFileName(a: { containerId: string; ifName: string }): string {
  return `${a.containerId}_${a.ifName}.json`;
}
