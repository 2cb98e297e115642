/**
 * The package test: each published library is packed, installed into an empty project outside the
 * workspace (its dependencies from the registry, nothing from here), and its README example is type-checked
 * against the packed declarations and run from the packed files on Node 22 and 24. Inside the monorepo the
 * `@hostnic/source` condition points at sources, so a missing dist/ file only shows up here.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumerProject, packPackage, runInProject, typecheckInProject, type ConsumerProject } from '../src/consumer-project.ts';
import { node22, node24, TESTED_ENGINES, type NodeRuntime } from '../src/node-runtimes.ts';
import { extractPackageExample, type PackageExample } from '../src/readme-example.ts';
import { publishedPackages, readWorkspacePackages, type WorkspacePackage } from '../src/workspace.ts';
import { REPO_ROOT } from './fixture-repo.ts';

const published = publishedPackages(await readWorkspacePackages(REPO_ROOT));
const isRoot = process.getuid?.() === 0;

interface ExportsMap {
  [key: string]: string | ExportsMap;
}
interface Manifest {
  name: string;
  engines?: { node?: string };
  exports?: ExportsMap;
}

/** Every file an exports map points at under a condition a consumer resolves (all but @hostnic/source). */
function exportTargets(map: ExportsMap): string[] {
  return Object.entries(map).flatMap(([condition, target]) => {
    if (condition === '@hostnic/source') return [];
    return typeof target === 'string' ? [target] : exportTargets(target);
  });
}

interface Prepared {
  readonly project: ConsumerProject;
  readonly example: PackageExample;
  readonly installed: Manifest;
}

/** Packs the package and installs it into its own consumer project, with the README example beside it. */
async function prepare(pkg: WorkspacePackage, tarballDir: string): Promise<Prepared> {
  const example = extractPackageExample(await readFile(join(REPO_ROOT, pkg.dir, 'README.md'), 'utf8'), `${pkg.dir}/README.md`);
  const project = await createConsumerProject([await packPackage(join(REPO_ROOT, pkg.dir), tarballDir)]);
  const installed = JSON.parse(await readFile(join(project.dir, 'node_modules', pkg.name, 'package.json'), 'utf8')) as Manifest;
  await writeFile(join(project.dir, 'example.ts'), example.code);
  return { project, example, installed };
}

let runtimes: NodeRuntime[] = [];
let tarballDir = '';
const prepared = new Map<string, Prepared>();
// All projects at once: the installs mostly wait on the registry.
beforeAll(async () => {
  tarballDir = await mkdtemp(join(tmpdir(), 'hostnic-packs-'));
  const [n22, ...projects] = await Promise.allSettled([node22(), ...published.map((p) => prepare(p, tarballDir))]);
  projects.forEach((r, i) => {
    if (r.status === 'fulfilled') prepared.set(published[i]?.name ?? '', r.value);
  });
  const failed = [n22, ...projects].find((r) => r.status === 'rejected');
  if (failed?.status === 'rejected') throw failed.reason;
  if (n22?.status === 'fulfilled') runtimes = [n22.value, node24()];
}, 900_000);
afterAll(async () => {
  for (const p of prepared.values()) await p.project.remove();
  if (tarballDir !== '') await rm(tarballDir, { recursive: true, force: true });
});

it('covers every published package, each with engines saying what is tested', async () => {
  expect(published.map((p) => p.name)).toEqual(['@hostnic/iaas-client', '@hostnic/ipam', '@hostnic/netlink', '@hostnic/protocol']);
  for (const p of published) {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, p.dir, 'package.json'), 'utf8')) as Manifest;
    expect({ name: p.name, engines: manifest.engines?.node }).toEqual({ name: p.name, engines: TESTED_ENGINES });
  }
});

describe.each(published)('$name, packed', (pkg) => {
  const get = (): Prepared => {
    const p = prepared.get(pkg.name);
    if (!p) throw new Error(`${pkg.name} was not packed and installed`);
    return p;
  };

  it('ships every file its exports name', async () => {
    const { project, installed } = get();
    const targets = exportTargets(installed.exports ?? {});
    expect(targets.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const t of targets) {
      await readFile(join(project.dir, 'node_modules', pkg.name, t)).catch(() => missing.push(t));
    }
    expect(missing).toEqual([]);
  });

  it('type-checks the README example against the packed declarations', async () => {
    await typecheckInProject(get().project, 'example.ts');
  }, 120_000);

  it.each([{ i: 0, node: 22 }, { i: 1, node: 24 }])('runs the README example on Node $node', async ({ i }) => {
    const { project, example } = get();
    const runtime = runtimes[i];
    if (!runtime) throw new Error(`no runtime #${i}`);
    if (example.needsRoot && !isRoot) {
      console.warn(`${pkg.name}: README example needs root; not run on ${runtime.label}`);
      return;
    }
    // A throw or a non-zero exit rejects, with the example's stderr in the message.
    await expect(runInProject(project, runtime, 'example.ts')).resolves.toMatchObject({ stdout: expect.any(String) });
  }, 120_000);
});
