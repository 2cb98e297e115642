import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IdentityError,
  MONOREPO_PLUGIN_BUNDLE,
  ConfigValidationError,
  nicNameFor,
  parseAgentConfig,
  nodeNameFromEnv,
  readInstanceId,
  resolveAgentPaths,
} from '../../src/config/index.ts';
import type { AgentConfig } from '../../src/config/index.ts';
import { useTempDirs } from './helpers.ts';

const tempDir = useTempDirs();

describe('identity', () => {
  it('9: the instance id is trimmed and names the NICs', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'instance-id');
    await writeFile(file, '  i-abcd1234\n\n');
    const id = await readInstanceId(file);
    expect(id).toBe('i-abcd1234');
    expect(nicNameFor(id)).toBe('hostnic_i-abcd1234');
  });

  it('8: a missing instance-id file is a typed error naming the file and the fix', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'instance-id');
    const err = await readInstanceId(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).source).toBe(file);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('--instance-id-file');
  });

  it('an empty instance-id file is refused', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'instance-id');
    await writeFile(file, ' \n');
    await expect(readInstanceId(file)).rejects.toThrow(/is empty/);
  });

  it('node name from MY_NODE_NAME, else NODE_NAME; neither → error naming both', () => {
    expect(nodeNameFromEnv({ MY_NODE_NAME: 'n1', NODE_NAME: 'n2' })).toEqual({ nodeName: 'n1', variable: 'MY_NODE_NAME' });
    expect(nodeNameFromEnv({ NODE_NAME: 'n2' })).toEqual({ nodeName: 'n2', variable: 'NODE_NAME' });
    expect(() => nodeNameFromEnv({})).toThrow(IdentityError);
    expect(() => nodeNameFromEnv({ MY_NODE_NAME: ' ' })).toThrow(/MY_NODE_NAME.*NODE_NAME/);
  });
});

describe('resolveAgentPaths', () => {
  it('defaults', () => {
    const p = resolveAgentPaths({}, {}, { exists: () => false, execPath: '/usr/bin/node' });
    expect(p).toEqual({
      configFile: '/etc/hostnic/hostnic.json',
      configFileExplicit: false,
      qingcloudConfig: '/root/.qingcloud/config.yaml',
      instanceIdFile: '/etc/qingcloud/instance-id',
      stateDir: '/var/lib/hostnic',
      socket: '/var/run/hostnic/hostnic.socket',
      spoolDir: '/var/lib/hostnic/spool',
      cniBinDir: '/opt/cni/bin',
      cniConfDir: '/etc/cni/net.d',
      cniConfigSource: '/etc/hostnic/10-hostnic.conf',
      pluginBundle: '/app/hostnic',
      nodeRuntime: '/usr/bin/node',
      hostRoot: '/',
    });
    const inRepo = resolveAgentPaths({}, {}, { exists: (f) => f === MONOREPO_PLUGIN_BUNDLE });
    expect(inRepo.pluginBundle).toBe(MONOREPO_PLUGIN_BUNDLE);
    expect(MONOREPO_PLUGIN_BUNDLE.endsWith(path.join('packages', 'cni-plugin', 'dist', 'hostnic'))).toBe(true);
  });

  it('flag > environment > hostnic.json > default', () => {
    const config = parseConfig({ server: { serverPath: '/cfg/s.sock' }, agent: { stateDir: '/cfg/state' } });
    const p = resolveAgentPaths(
      { socket: '/flag/s.sock', config: 'rel/h.json' },
      { HOSTNIC_SOCKET: '/env/s.sock', HOSTNIC_STATE_DIR: '/env/state', HOSTNIC_CNI_BIN_DIR: '/env/bin' },
      { config, cwd: '/work' },
    );
    expect(p.socket).toBe('/flag/s.sock');
    expect(p.stateDir).toBe('/env/state');
    expect(p.cniBinDir).toBe('/env/bin');
    expect(p.configFile).toBe('/work/rel/h.json');
    expect(p.configFileExplicit).toBe(true);
    expect(resolveAgentPaths({}, {}, { config }).socket).toBe('/cfg/s.sock');
  });

  it('a relative CNI bin dir is refused: it is the node view', () => {
    expect(() => resolveAgentPaths({ cniBinDir: 'opt/cni/bin' }, {})).toThrow(ConfigValidationError);
  });
});

function parseConfig(doc: unknown): AgentConfig {
  return parseAgentConfig(doc, 'test').config;
}
