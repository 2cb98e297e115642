/**
 * Every file and directory the agent touches, resolved once: command-line flag, then environment variable,
 * then hostnic.json (for the three paths it can set), then the default. Tests and the sandbox run several
 * agents on one machine, so nothing may be hard-wired.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigValidationError } from './errors.ts';
import { DEFAULT_CONFIG_FILE, MAX_SOCKET_PATH_BYTES, defaultAgentConfig } from './hostnic-json.ts';
import type { AgentConfig } from './hostnic-json.ts';
import { DEFAULT_INSTANCE_ID_FILE } from './identity.ts';

export const DEFAULT_QINGCLOUD_CONFIG = '/root/.qingcloud/config.yaml';
export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';
export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
/** The ConfigMap key `hostnic-cni` as the DaemonSet mounts it. */
export const DEFAULT_CNI_CONFIG_SOURCE = '/etc/hostnic/10-hostnic.conf';
/** Where the image puts the plugin bundle (WORKDIR /app, as the Go image had /app/hostnic). */
export const IMAGE_PLUGIN_BUNDLE = '/app/hostnic';
/** The bundle in this monorepo, relative to this file (packages/agent/src/config). */
export const MONOREPO_PLUGIN_BUNDLE = fileURLToPath(new URL('../../../cni-plugin/dist/hostnic', import.meta.url));

export interface AgentPathFlags {
  config?: string | undefined;
  qingcloudConfig?: string | undefined;
  instanceIdFile?: string | undefined;
  stateDir?: string | undefined;
  socket?: string | undefined;
  spoolDir?: string | undefined;
  cniBinDir?: string | undefined;
  cniConfDir?: string | undefined;
  cniConfigSource?: string | undefined;
  pluginBundle?: string | undefined;
  nodeRuntime?: string | undefined;
  hostRoot?: string | undefined;
}

export type AgentPathName = keyof AgentPathFlags;

export interface AgentPaths {
  /** hostnic.json. */
  configFile: string;
  /** True when given by flag or environment: then a missing file is an error, not "all defaults". */
  configFileExplicit: boolean;
  qingcloudConfig: string;
  instanceIdFile: string;
  stateDir: string;
  socket: string;
  spoolDir: string;
  /** As the node (kubelet) sees it; it goes into the plugin's shebang. */
  cniBinDir: string;
  /** As the node sees it. */
  cniConfDir: string;
  cniConfigSource: string;
  pluginBundle: string;
  nodeRuntime: string;
  /** Where the node's root is mounted in this container ("/" when the agent sees the node's files directly). */
  hostRoot: string;
}

/** Environment variable of each path, for containers that prefer env over args. */
export const PATH_ENV: Readonly<Record<AgentPathName, string>> = {
  config: 'HOSTNIC_CONFIG',
  qingcloudConfig: 'HOSTNIC_QINGCLOUD_CONFIG',
  instanceIdFile: 'HOSTNIC_INSTANCE_ID_FILE',
  stateDir: 'HOSTNIC_STATE_DIR',
  socket: 'HOSTNIC_SOCKET',
  spoolDir: 'HOSTNIC_SPOOL_DIR',
  cniBinDir: 'HOSTNIC_CNI_BIN_DIR',
  cniConfDir: 'HOSTNIC_CNI_CONF_DIR',
  cniConfigSource: 'HOSTNIC_CNI_CONFIG_SOURCE',
  pluginBundle: 'HOSTNIC_PLUGIN_BUNDLE',
  nodeRuntime: 'HOSTNIC_NODE_RUNTIME',
  hostRoot: 'HOSTNIC_HOST_ROOT',
};

export interface ResolvePathsOptions {
  /** Resolves relative paths; defaults to process.cwd(). */
  cwd?: string;
  /** hostnic.json, for serverPath, stateDir and spoolDir. */
  config?: AgentConfig;
  /** Existence probe for the plugin bundle default (tests replace it). */
  exists?: (file: string) => boolean;
  /** The runtime to copy by default; process.execPath unless given. */
  execPath?: string;
}

export function resolveAgentPaths(
  flags: AgentPathFlags,
  env: Readonly<Record<string, string | undefined>>,
  options: ResolvePathsOptions = {},
): AgentPaths {
  const cwd = options.cwd ?? process.cwd();
  const config = options.config ?? defaultAgentConfig();
  const exists = options.exists ?? existsSync;
  const given = (name: AgentPathName): string | undefined => {
    const flag = flags[name];
    if (flag !== undefined && flag !== '') return flag;
    const fromEnv = env[PATH_ENV[name]];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  };
  const pick = (name: AgentPathName, fallback: () => string): string => path.resolve(cwd, given(name) ?? fallback());
  // These two are the node's view, written into the shebang and compared by kubelet: resolving them against
  // this container's cwd would produce a path that means nothing on the node.
  const nodeView = (name: 'cniBinDir' | 'cniConfDir', fallback: string): string => {
    const value = given(name) ?? fallback;
    if (!path.isAbsolute(value)) {
      throw new ConfigValidationError(
        `--${kebab(name)} / ${PATH_ENV[name]}`,
        name,
        `${name} must be an absolute path as the node sees it, got ${JSON.stringify(value)}`,
      );
    }
    return path.normalize(value);
  };

  const socket = pick('socket', () => config.server.serverPath);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new ConfigValidationError(
      `--socket / ${PATH_ENV.socket}`,
      'socket',
      `socket path ${socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of a unix socket path`,
    );
  }
  return {
    configFile: pick('config', () => DEFAULT_CONFIG_FILE),
    configFileExplicit: given('config') !== undefined,
    qingcloudConfig: pick('qingcloudConfig', () => DEFAULT_QINGCLOUD_CONFIG),
    instanceIdFile: pick('instanceIdFile', () => DEFAULT_INSTANCE_ID_FILE),
    stateDir: pick('stateDir', () => config.agent.stateDir),
    socket,
    spoolDir: pick('spoolDir', () => config.agent.spoolDir),
    cniBinDir: nodeView('cniBinDir', DEFAULT_CNI_BIN_DIR),
    cniConfDir: nodeView('cniConfDir', DEFAULT_CNI_CONF_DIR),
    cniConfigSource: pick('cniConfigSource', () => DEFAULT_CNI_CONFIG_SOURCE),
    pluginBundle: pick('pluginBundle', () =>
      exists(MONOREPO_PLUGIN_BUNDLE) ? MONOREPO_PLUGIN_BUNDLE : IMAGE_PLUGIN_BUNDLE,
    ),
    nodeRuntime: pick('nodeRuntime', () => options.execPath ?? process.execPath),
    hostRoot: pick('hostRoot', () => '/'),
  };
}

/** Where a node path is, seen from this container. */
export function onHost(hostRoot: string, nodePath: string): string {
  return path.join(hostRoot, nodePath);
}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
