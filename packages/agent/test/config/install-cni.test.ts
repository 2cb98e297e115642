import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniConfigError, InstallCniError, installCni, prepareCniConflist } from '../../src/config/index.ts';
import type { InstallCniPaths } from '../../src/config/index.ts';
import { README_HOSTNIC_CNI, useTempDirs } from './helpers.ts';

const tempDir = useTempDirs();

const BUNDLE = '#!/opt/cni/bin/hostnic-node\n"use strict";console.log("hostnic");\n';

/** A node root under `<tmp>/host`, sources under `<tmp>/src`; a small fake "runtime" stands in for node. */
async function fixture(cniConfig = README_HOSTNIC_CNI): Promise<{ tmp: string; host: string; paths: InstallCniPaths }> {
  const tmp = await tempDir();
  const src = path.join(tmp, 'src');
  await mkdir(src);
  await writeFile(path.join(src, 'hostnic'), BUNDLE);
  await writeFile(path.join(src, 'node'), '#!/bin/sh\necho fake node\n');
  await chmod(path.join(src, 'node'), 0o755);
  await writeFile(path.join(src, '10-hostnic.conf'), cniConfig);
  const host = path.join(tmp, 'host');
  return {
    tmp,
    host,
    paths: {
      cniBinDir: '/opt/cni/bin',
      cniConfDir: '/etc/cni/net.d',
      cniConfigSource: path.join(src, '10-hostnic.conf'),
      pluginBundle: path.join(src, 'hostnic'),
      nodeRuntime: path.join(src, 'node'),
      hostRoot: host,
    },
  };
}

describe('prepareCniConflist', () => {
  it('wraps the README single-plugin config into a conflist, keeping every key', () => {
    const p = prepareCniConflist(README_HOSTNIC_CNI, 'src');
    expect(p.converted).toBe(true);
    expect(p.conflist).toEqual({
      cniVersion: '0.3.0',
      name: 'hostnic',
      plugins: [{ type: 'hostnic', serviceCIDR: '10.233.0.0/18', hairpin: false, natMark: '0x10000' }],
    });
  });

  it('keeps a conflist with hostnic first as is', () => {
    const list = { cniVersion: '1.0.0', name: 'hostnic', plugins: [{ type: 'hostnic' }, { type: 'portmap' }] };
    const p = prepareCniConflist(JSON.stringify(list), 'src');
    expect(p.converted).toBe(false);
    expect(p.conflist).toEqual(list);
  });

  it.each([
    ['{"cniVersion":"0.3.0","name":"hostnic","type":"bridge"}', 'type'],
    ['{"name":"hostnic","type":"hostnic"}', 'cniVersion'],
    ['{"cniVersion":"0.2.0","name":"hostnic","type":"hostnic"}', 'cniVersion'],
    ['{"cniVersion":"0.3.0","type":"hostnic"}', 'name'],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"portmap"},{"type":"hostnic"}]}', 'plugins[0].type'],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[]}', 'plugins'],
    ['{"cniVersion":', ''],
  ])('refuses %s naming %s', (text, field) => {
    let caught: unknown;
    try {
      prepareCniConflist(text, 'src');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CniConfigError);
    expect((caught as CniConfigError).field).toBe(field);
    if (field !== '') expect((caught as Error).message).toContain(field);
  });
});

describe('installCni with a host prefix', () => {
  it('installs runtime, plugin (shebang rewritten) and conflist; executable; removes our stale .conf only', async () => {
    const { host, paths } = await fixture();
    const bin = path.join(host, 'opt/cni/bin');
    const conf = path.join(host, 'etc/cni/net.d');
    await mkdir(conf, { recursive: true });
    await writeFile(path.join(conf, '10-hostnic.conf'), README_HOSTNIC_CNI);
    await writeFile(path.join(conf, '05-other.conf'), '{"cniVersion":"0.3.0","name":"x","type":"bridge"}');

    const result = await installCni(paths);
    expect(result.runtime).toEqual({ path: path.join(bin, 'hostnic-node'), nodePath: '/opt/cni/bin/hostnic-node', outcome: 'created' });
    expect(result.plugin.outcome).toBe('created');
    expect(result.config.nodePath).toBe('/etc/cni/net.d/10-hostnic.conflist');
    expect(result.removed).toEqual([path.join(conf, '10-hostnic.conf')]);
    expect(result.converted).toBe(true);

    const plugin = await readFile(path.join(bin, 'hostnic'), 'utf8');
    expect(plugin.split('\n')[0]).toBe('#!/opt/cni/bin/hostnic-node');
    expect(plugin.slice(plugin.indexOf('\n'))).toBe(BUNDLE.slice(BUNDLE.indexOf('\n')));
    expect((await stat(path.join(bin, 'hostnic'))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(bin, 'hostnic-node'))).mode & 0o777).toBe(0o755);
    expect(await readFile(path.join(bin, 'hostnic-node'), 'utf8')).toBe(await readFile(paths.nodeRuntime, 'utf8'));
    expect(JSON.parse(await readFile(path.join(conf, '10-hostnic.conflist'), 'utf8'))).toMatchObject({
      cniVersion: '0.3.0',
      name: 'hostnic',
      plugins: [{ type: 'hostnic', serviceCIDR: '10.233.0.0/18' }],
    });
    // No temp files left behind, other configs untouched.
    expect((await readdir(bin)).sort()).toEqual(['hostnic', 'hostnic-node']);
    expect((await readdir(conf)).sort()).toEqual(['05-other.conf', '10-hostnic.conflist']);
  });

  it('a foreign 10-hostnic.conf is left alone with a warning', async () => {
    const { host, paths } = await fixture();
    const conf = path.join(host, 'etc/cni/net.d');
    await mkdir(conf, { recursive: true });
    await writeFile(path.join(conf, '10-hostnic.conf'), '{"cniVersion":"0.3.0","name":"x","type":"bridge"}');
    const result = await installCni(paths);
    expect(result.removed).toEqual([]);
    expect(result.warnings.join()).toContain('not a hostnic config');
    expect((await readdir(conf)).sort()).toEqual(['10-hostnic.conf', '10-hostnic.conflist']);
  });

  it('is idempotent: a second run rewrites nothing (mtime unchanged)', async () => {
    const { host, paths } = await fixture();
    await installCni(paths);
    const files = ['opt/cni/bin/hostnic', 'opt/cni/bin/hostnic-node', 'etc/cni/net.d/10-hostnic.conflist'].map((f) =>
      path.join(host, f),
    );
    const before = await Promise.all(files.map(async (f) => ({ mtime: (await stat(f)).mtimeMs, ino: (await stat(f)).ino })));
    await new Promise((r) => setTimeout(r, 20));
    const again = await installCni(paths);
    expect([again.runtime.outcome, again.plugin.outcome, again.config.outcome]).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const after = await Promise.all(files.map(async (f) => ({ mtime: (await stat(f)).mtimeMs, ino: (await stat(f)).ino })));
    expect(after).toEqual(before);
  });

  it('replaces a changed file through a new inode (rename), not in place', async () => {
    const { host, paths } = await fixture();
    await installCni(paths);
    const plugin = path.join(host, 'opt/cni/bin/hostnic');
    const ino = (await stat(plugin)).ino;
    await writeFile(paths.pluginBundle, BUNDLE + '// v2\n');
    const r = await installCni(paths);
    expect(r.plugin.outcome).toBe('replaced');
    expect(r.runtime.outcome).toBe('unchanged');
    expect((await stat(plugin)).ino).not.toBe(ino);
    expect(await readFile(plugin, 'utf8')).toContain('// v2');
  });

  it('fixes only the mode when the content is already right', async () => {
    const { host, paths } = await fixture();
    await installCni(paths);
    const plugin = path.join(host, 'opt/cni/bin/hostnic');
    await chmod(plugin, 0o644);
    const r = await installCni(paths);
    expect(r.plugin.outcome).toBe('mode-fixed');
    expect((await stat(plugin)).mode & 0o777).toBe(0o755);
  });

  it('invalid hostnic-cni content writes nothing', async () => {
    const { host, paths } = await fixture('{"cniVersion":"0.3.0","name":"hostnic","type":"calico"}');
    const err = await installCni(paths).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniConfigError);
    expect((err as CniConfigError).field).toBe('type');
    await expect(stat(host)).rejects.toThrow(/ENOENT/);
  });

  it('a bundle without a shebang writes nothing', async () => {
    const { host, paths } = await fixture();
    await writeFile(paths.pluginBundle, 'console.log(1)\n');
    await expect(installCni(paths)).rejects.toThrow(InstallCniError);
    await expect(stat(host)).rejects.toThrow(/ENOENT/);
  });

  it('a missing Node runtime writes nothing and names the flag', async () => {
    const { tmp, host, paths } = await fixture();
    await expect(installCni({ ...paths, nodeRuntime: path.join(tmp, 'none') })).rejects.toThrow(/--node-runtime/);
    await expect(stat(host)).rejects.toThrow(/ENOENT/);
  });
});
