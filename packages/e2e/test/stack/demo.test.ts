/**
 * `npm start` runs this demo: it installs hostnic by the README's steps, must pass its own checks and leave
 * the machine as it found it.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listNamedNetns } from '@hostnic/netlink';
import { readmeInstallSteps } from '@hostnic/sandbox/install';
import { REPO } from '../../src/stack/index.ts';
import { runDemo } from '../../src/demo/demo.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('the demo', () => {
  it('passes every check, narrates each step, and leaves no namespace behind', async () => {
    const prefix = `hq${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
    let text = '';
    const result = await runDemo({ write: (t) => (text += t), prefix });
    expect(result.checks.length).toBeGreaterThanOrEqual(6);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.leftovers).toEqual([]);
    expect(result.pods.map((p) => p.ip).every((ip) => ip.startsWith('172.16.3.'))).toBe(true);
    expect(new Set(result.pods.map((p) => p.ip)).size).toBe(3);
    for (const heading of ['README\'s steps', 'VxNetPool v-pool', 'auto mode', 'ADD', 'Traffic', 'ipam show', 'DEL', 'Tearing down']) expect(text).toContain(heading);
    // Each README install step, as it ran, in order.
    const steps = readmeInstallSteps(await readFile(join(REPO, 'README.md'), 'utf8'));
    const printed = steps.map((s, i) => text.indexOf(`[${i + 1}/${steps.length}] ${s.title}\n      $ ${s.command}\n`));
    expect(printed.every((at) => at > 0)).toBe(true);
    expect([...printed].sort((a, b) => a - b)).toEqual(printed);
    expect((await listNamedNetns()).filter((n) => n.startsWith(prefix))).toEqual([]);
  }, 180_000);
});
