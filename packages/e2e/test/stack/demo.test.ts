/** `npm start` runs this demo: it must pass its own checks and leave the machine as it found it. */
import { describe, expect, it } from 'vitest';
import { listNamedNetns } from '@hostnic/netlink';
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
    for (const heading of ['VxNetPool v-pool', 'auto mode', 'ADD', 'Traffic', 'ipam show', 'DEL', 'Tearing down']) expect(text).toContain(heading);
    expect((await listNamedNetns()).filter((n) => n.startsWith(prefix))).toEqual([]);
  }, 180_000);
});
