/**
 * The agent's bundle runs with nothing from the workspace: a temp dir outside it holding only the build
 * output starts the CLI and opens an lmdb datastore with the native addon copied beside the bundle.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleToTemp, runIsolated, sourceRevision } from '../../../../scripts/bundle-app.ts';
import pkg from '../../package.json' with { type: 'json' };

describe('hostnic-agent bundle', () => {
  let out: Awaited<ReturnType<typeof bundleToTemp>>;
  let dir: string;
  beforeAll(async () => {
    out = await bundleToTemp({ packageDir: resolve(import.meta.dirname, '../..'), entry: 'src/cli.ts', name: 'hostnic-agent', native: ['lmdb'] });
    dir = out.dir;
  }, 120_000);
  afterAll(() => out.remove());

  it('holds the bundle and lmdb with the packages it loads, nothing else', async () => {
    expect((await readdir(dir)).sort()).toEqual(['hostnic-agent.mjs', 'node_modules']);
    expect(out.copied).toContain('lmdb');
    expect(out.copied).toContain('@lmdb/lmdb-linux-x64');
    // node-addon-api holds C++ headers only; lmdb never loads it.
    expect(out.copied).not.toContain('node-addon-api');
    const addons = await readdir(join(dir, 'node_modules/@lmdb/lmdb-linux-x64'));
    expect(addons.filter((f) => f.endsWith('.node'))).toEqual(['node.napi.glibc.node']);
  });

  it('holds no @kubernetes/client-node: the agent reaches the API through the lean client (about 90 MiB less)', () => {
    expect(out.inputs.length).toBeGreaterThan(100);
    // Workspace packages appear as ../<package>/src/...: the lean client is in.
    expect(out.inputs).toContain('../runtime/src/kube/http/client.ts');
    expect(out.inputs.filter((f) => f.includes('node_modules/@kubernetes/'))).toEqual([]);
  });

  it('holds no undici: the Kubernetes and IaaS clients use node:http(s), one HTTP stack instead of two', () => {
    expect(out.inputs).toContain('../iaas-client/src/transport.ts');
    expect(out.inputs.filter((f) => f.includes('node_modules/undici/'))).toEqual([]);
  });

  it('imports no Node builtin as an ES module: each namespace would read every lazy export (node:http loads Node\'s undici)', async () => {
    const code = await readFile(out.outfile, 'utf8');
    expect(code).toContain('process.getBuiltinModule("node:http")');
    const imported = [...code.matchAll(/\b(?:from|import)\s*["']([^"']+)["']/g)].map((m) => m[1] ?? '');
    expect(imported).toContain('lmdb');
    expect(imported.filter((name) => isBuiltin(name))).toEqual([]);
  });

  it('answers --help from a directory outside the workspace', () => {
    const r = runIsolated(dir, ['hostnic-agent.mjs', '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hostnic-agent /);
    expect(r.stdout).toContain('install-cni');
  });

  it('opens an lmdb datastore with the copied native addon', async () => {
    const script = join(dir, 'lmdb-check.mjs');
    await writeFile(script, [
      "import { open } from 'lmdb';",
      'const db = open({ path: process.argv[2] });',
      "await db.put('pod', { ip: '10.0.0.5' });",
      "process.stdout.write(JSON.stringify(db.get('pod')));",
      'await db.close();',
    ].join('\n'));
    const r = runIsolated(dir, [script, join(dir, 'state')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{"ip":"10.0.0.5"}');
  });

  it('answers --version with the package version and the git revision it was built from', () => {
    const r = runIsolated(dir, ['hostnic-agent.mjs', '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version} (revision ${sourceRevision(resolve(import.meta.dirname, '../..')) ?? '?'})\n`);
  });
});
