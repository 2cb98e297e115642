/**
 * The CNI network config installed on the node, from the `hostnic-cni` key of ConfigMap hostnic-cfg-cm.
 *
 * It is installed as a conflist (10-hostnic.conflist) even though users write a single-plugin .conf: CNI 1.x
 * only defines conflists, containerd and CRI-O turn a .conf into a one-plugin list anyway, and a conflist is
 * what lets portmap/bandwidth be chained after hostnic. A user who already writes a conflist keeps it as is.
 *
 * Checked here: only what decides whether the runtime will call hostnic at all (JSON, name, cniVersion, type
 * and hostnic's place in the list). The plugin validates its own keys on every call, with better messages
 * than an installer could give.
 */

import { CniConfigError } from './errors.ts';
import { lineAndColumn } from './hostnic-json.ts';
import { SUPPORTED_CNI_VERSIONS } from '@hostnic/protocol';

/** The versions the plugin speaks, from the plugin itself so that the two cannot drift apart. */
export const PLUGIN_CNI_VERSIONS: readonly string[] = SUPPORTED_CNI_VERSIONS;
export const PLUGIN_TYPE = 'hostnic';
export const CONFLIST_NAME = '10-hostnic.conflist';
/** The original single-plugin file name; removed when it is ours, since ".conf" sorts before ".conflist". */
export const LEGACY_CONF_NAME = '10-hostnic.conf';
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface PreparedCniConfig {
  /** What goes into 10-hostnic.conflist. */
  text: string;
  conflist: Record<string, unknown>;
  /** True when the source was a single-plugin config that was wrapped. */
  converted: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function prepareCniConflist(text: string, source: string): PreparedCniConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const m = /at position (\d+)/.exec(detail);
    const position = m?.[1] !== undefined ? Number(m[1]) : text.length;
    const { line, column } = lineAndColumn(text, position);
    throw new CniConfigError(source, '', `invalid JSON at line ${line} column ${column} (position ${position}): ${detail}`);
  }
  if (!isPlainObject(doc)) throw new CniConfigError(source, '', 'the CNI config must be a JSON object');

  const version = doc['cniVersion'];
  if (typeof version !== 'string') {
    throw new CniConfigError(
      source,
      'cniVersion',
      `cniVersion must be a string, one of ${PLUGIN_CNI_VERSIONS.join(', ')} (absent means 0.1.0, which hostnic refuses), got ${JSON.stringify(version)}`,
    );
  }
  if (!PLUGIN_CNI_VERSIONS.includes(version)) {
    throw new CniConfigError(
      source,
      'cniVersion',
      `cniVersion ${JSON.stringify(version)} is not supported by the hostnic plugin; use one of ${PLUGIN_CNI_VERSIONS.join(', ')}`,
    );
  }
  const name = doc['name'];
  if (typeof name !== 'string' || !NETWORK_NAME.test(name)) {
    throw new CniConfigError(
      source,
      'name',
      `name must be a network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), e.g. "hostnic", got ${JSON.stringify(name)}`,
    );
  }

  if ('plugins' in doc) {
    const plugins = doc['plugins'];
    if (!Array.isArray(plugins) || plugins.length === 0) {
      throw new CniConfigError(source, 'plugins', 'plugins must be a non-empty array of plugin configs');
    }
    plugins.forEach((p: unknown, i) => {
      if (!isPlainObject(p) || typeof p['type'] !== 'string' || p['type'] === '') {
        throw new CniConfigError(source, `plugins[${i}].type`, `plugins[${i}] must be an object with a "type" string`);
      }
    });
    const first = plugins[0] as Record<string, unknown>;
    if (first['type'] !== PLUGIN_TYPE) {
      throw new CniConfigError(
        source,
        'plugins[0].type',
        `plugins[0].type must be "${PLUGIN_TYPE}" (hostnic creates the pod interface, so it comes first), got ${JSON.stringify(first['type'])}`,
      );
    }
    return { conflist: doc, text: `${JSON.stringify(doc, null, 2)}\n`, converted: false };
  }

  if (doc['type'] !== PLUGIN_TYPE) {
    throw new CniConfigError(source, 'type', `type must be "${PLUGIN_TYPE}", got ${JSON.stringify(doc['type'])}`);
  }
  // libcni gives each plugin of a list the list's cniVersion and name, so they live at the top only.
  const plugin: Record<string, unknown> = { type: PLUGIN_TYPE };
  for (const [key, value] of Object.entries(doc)) {
    if (key !== 'cniVersion' && key !== 'name' && key !== 'type') plugin[key] = value;
  }
  const conflist = { cniVersion: version, name, plugins: [plugin] };
  return { conflist, text: `${JSON.stringify(conflist, null, 2)}\n`, converted: true };
}

/** Whether a config file (either form) is one of ours: its first or only plugin is hostnic. */
export function isHostnicCniConfig(text: string): boolean {
  try {
    const doc: unknown = JSON.parse(text);
    if (!isPlainObject(doc)) return false;
    if (doc['type'] === PLUGIN_TYPE) return true;
    const plugins = doc['plugins'];
    return Array.isArray(plugins) && isPlainObject(plugins[0]) && plugins[0]['type'] === PLUGIN_TYPE;
  } catch {
    return false;
  }
}
