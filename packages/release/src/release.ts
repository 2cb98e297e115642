import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npmEnv } from './env.ts';
import { ReleaseToolError } from './errors.ts';
import { git, releaseTag } from './git.ts';
import { run } from './run.ts';

export interface PlannedRelease {
  readonly name: string;
  readonly type: string;
  readonly oldVersion: string;
  readonly newVersion: string;
}

interface StatusJson {
  releases?: unknown;
}

function isPlannedRelease(r: unknown): r is PlannedRelease {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return ['name', 'type', 'oldVersion', 'newVersion'].every((k) => typeof o[k] === 'string');
}

/** Reads the release plan that `changeset status --output` writes; releases of type "none" are left out. */
export function parseReleasePlan(text: string): PlannedRelease[] {
  const releases = (JSON.parse(text) as StatusJson).releases;
  if (!Array.isArray(releases) || !releases.every(isPlannedRelease)) {
    throw new ReleaseToolError('changeset status wrote no "releases" list of {name, type, oldVersion, newVersion}');
  }
  return releases.filter((r) => r.type !== 'none').sort((a, b) => a.name.localeCompare(b.name));
}

export function formatReleasePlan(plan: readonly PlannedRelease[]): string {
  if (plan.length === 0) return 'no pending changesets: nothing to release';
  return plan.map((r) => `${r.name}: ${r.oldVersion} -> ${r.newVersion} (${r.type})`).join('\n');
}

function changesetBin(root: string): string {
  return join(root, 'node_modules', '.bin', 'changeset');
}

/** The next versions from the pending changesets; writes nothing in the repository. */
export async function releasePlan(root: string): Promise<PlannedRelease[]> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-release-plan-'));
  try {
    const out = join(dir, 'status.json');
    await run(changesetBin(root), ['status', `--output=${out}`], { cwd: root });
    return parseReleasePlan(await readFile(out, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Cuts a release on a clean checkout: versions the packages named by the pending changesets (each on its
 * own), writes their CHANGELOGs, updates the lockfile, commits, and tags `<name>@<version>`.
 */
export async function cutRelease(root: string): Promise<PlannedRelease[]> {
  if ((await git(root, ['status', '--porcelain'])).trim() !== '') {
    throw new ReleaseToolError('the working tree has uncommitted changes: commit or stash them, then run "npm run release" again');
  }
  const plan = await releasePlan(root);
  if (plan.length === 0) return plan;
  await run(changesetBin(root), ['version'], { cwd: root });
  // The lockfile records workspace versions; keep it in step without touching node_modules.
  await run('npm', ['install', '--package-lock-only', '--ignore-scripts'], { cwd: root, env: npmEnv() });
  await git(root, ['add', '--all']);
  await git(root, ['commit', '--quiet', '-m', `release: ${plan.map((r) => `${r.name}@${r.newVersion}`).join(', ')}`]);
  // Only what this release versioned: `changeset tag` would also tag every other package at its version.
  for (const r of plan) await git(root, ['tag', releaseTag({ name: r.name, version: r.newVersion })]);
  return plan;
}

/** `npm run release [-- --dry-run]` */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--dry-run');
  if (unknown.length > 0) throw new ReleaseToolError(`unknown argument ${unknown.join(' ')}: the only option is --dry-run`);
  const root = process.cwd();
  if (args.includes('--dry-run')) {
    console.log(formatReleasePlan(await releasePlan(root)));
    return;
  }
  const plan = await cutRelease(root);
  console.log(formatReleasePlan(plan));
  if (plan.length > 0) console.log('\ncommitted and tagged; publish with: npm run build && npx changeset publish');
}

if (import.meta.main) await main();
