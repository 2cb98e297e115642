import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IaasClient } from '@hostnic/iaas-client';
import { clientFor as fakeClient } from '@hostnic/iaas-client/fake';
import type { FakeQingCloud } from '@hostnic/iaas-client/fake';
import { listNamedNetns, readLinks } from '@hostnic/netlink';
import type { Link, Netns } from '@hostnic/netlink';

/** The real client against the fake, without client-side rate limits (tests would wait for tokens). */
export function clientFor(fake: FakeQingCloud): IaasClient {
  return fakeClient(fake);
}

/** Fast jobs, so that an attach takes tens of milliseconds. */
export const FAST_JOBS = { jobDurations: { pendingMs: 10, workMs: 30 } } as const;
export const FAST_WAIT = { initialIntervalMs: 25, maxIntervalMs: 100, timeoutMs: 10_000 } as const;

export async function netnsWithPrefix(prefix: string): Promise<string[]> {
  return (await listNamedNetns()).filter((n) => n.startsWith(`${prefix}-`));
}

export async function rootLinksWithPrefix(prefix: string): Promise<string[]> {
  // Reading is all that is done in the root namespace.
  return (await readLinks()).map((l) => l.name).filter((n) => n.startsWith(prefix));
}

export async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir);
}

export async function linkWithMac(netns: Netns, mac: string): Promise<Link | undefined> {
  return (await readLinks({ netns })).find((l) => l.mac.toLowerCase() === mac.toLowerCase() && l.kind === 'veth');
}

export async function tempBaseDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-sandbox-test-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
