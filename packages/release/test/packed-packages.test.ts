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
import { publishedPackages, readWorkspacePackages } from '../src/workspace.ts';
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

let runtimes: NodeRuntime[] = [];
let tarballDir = '';
beforeAll(async () => {
  runtimes = [await node22(), node24()];
  tarballDir = await mkdtemp(join(tmpdir(), 'hostnic-packs-'));
}, 600_000);
afterAll(async () => {
  if (tarballDir !== '') await rm(tarballDir, { recursive: true, force: true });
});

it('covers every published package, each with engines saying what is tested', async () => {
  expect(published.map((p) => p.name)).toEqual(['@hostnic/iaas-client', '@hostnic/ipam', '@hostnic/netlink']);
  for (const p of published) {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, p.dir, 'package.json'), 'utf8')) as Manifest;
    expect({ name: p.name, engines: manifest.engines?.node }).toEqual({ name: p.name, engines: TESTED_ENGINES });
  }
});

describe.each(published)('$name, packed', (pkg) => {
  let project: ConsumerProject | undefined;
  let example: PackageExample;
  let installed: Manifest;
  const dir = (): ConsumerProject => {
    if (!project) throw new Error('the consumer project was not created');
    return project;
  };

  beforeAll(async () => {
    example = extractPackageExample(await readFile(join(REPO_ROOT, pkg.dir, 'README.md'), 'utf8'), `${pkg.dir}/README.md`);
    project = await createConsumerProject([await packPackage(join(REPO_ROOT, pkg.dir), tarballDir)]);
    installed = JSON.parse(await readFile(join(project.dir, 'node_modules', pkg.name, 'package.json'), 'utf8')) as Manifest;
    await writeFile(join(project.dir, 'example.ts'), example.code);
  }, 300_000);
  afterAll(async () => {
    await project?.remove();
  });

  it('ships every file its exports name', async () => {
    const targets = exportTargets(installed.exports ?? {});
    expect(targets.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const t of targets) {
      await readFile(join(dir().dir, 'node_modules', pkg.name, t)).catch(() => missing.push(t));
    }
    expect(missing).toEqual([]);
  });

  it('type-checks the README example against the packed declarations', async () => {
    await typecheckInProject(dir(), 'example.ts');
  }, 120_000);

  it.each([0, 1])('runs the README example on the tested Node #%i', async (i) => {
    const runtime = runtimes[i];
    if (!runtime) throw new Error(`no runtime #${i}`);
    if (example.needsRoot && !isRoot) {
      console.warn(`${pkg.name}: README example needs root; not run on ${runtime.label}`);
      return;
    }
    const { stdout } = await runInProject(dir(), runtime, 'example.ts');
    expect(stdout.trim().split('\n').length).toBeGreaterThan(0);
  }, 120_000);
});
