/**
 * `hostnic-agent check [--fix]` and `hostnic-agent nics clear [--dry-run]` against a stand-in agent: what they
 * send, what they print, and their exit codes.
 */

import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { capture, useStandInAgents } from './helpers.ts';
import type { StandInRequest } from './helpers.ts';

const standIn = useStandInAgents();

const orphans = [
  { kind: 'veth', key: 'vnic00000000abc' },
  { kind: 'table', key: '263' },
];

describe('hostnic-agent check', () => {
  it('lists what is orphaned and exits 3 without --fix; sends fix=false', async () => {
    const seen: StandInRequest[] = [];
    const socket = await standIn((r) => {
      seen.push(r);
      return { status: 200, body: { found: orphans, removed: [], failed: [] } };
    });
    const c = capture();
    expect(await runCli(['check', '--socket', socket], c.io)).toBe(3);
    expect(seen).toEqual([{ method: 'POST', url: '/v1/node/check', body: '{"fix":false}' }]);
    const lines = c.out().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]?.split(/\s+/)).toEqual(['KIND', 'KEY']);
    expect(lines[1]?.split(/\s+/)).toEqual(['veth', 'vnic00000000abc']);
    expect(c.err()).toContain('2 orphaned object(s); run with --fix');
  });

  it('exits 0 when nothing is found', async () => {
    const socket = await standIn(() => ({ status: 200, body: { found: [], removed: [], failed: [] } }));
    const c = capture();
    expect(await runCli(['check', '--socket', socket], c.io)).toBe(0);
    expect(c.out()).toBe('no orphans\n');
  });

  it('--fix sends fix=true, shows what was removed, exits 0; a failed removal exits 1', async () => {
    const seen: string[] = [];
    const socket = await standIn((r) => {
      seen.push(r.body);
      return { status: 200, body: { found: orphans, removed: orphans, failed: [] } };
    });
    const c = capture();
    expect(await runCli(['check', '--fix', '--socket', socket], c.io)).toBe(0);
    expect(seen).toEqual(['{"fix":true}']);
    expect(c.out().match(/removed/g)).toHaveLength(2);

    const failing = await standIn(() => ({ status: 200, body: { found: orphans, removed: [orphans[0]], failed: ['table 263: Operation not permitted'] } }));
    const f = capture();
    expect(await runCli(['check', '--fix', '--socket', failing, '--json'], f.io)).toBe(1);
    expect(JSON.parse(f.out())).toMatchObject({ failed: ['table 263: Operation not permitted'] });
  });

  it('an agent that is not ready fails with its reason; an answer of another shape is refused', async () => {
    const socket = await standIn(() => ({ status: 503, body: { ready: false, code: 50, reason: 'journal replay' } }));
    const c = capture();
    expect(await runCli(['check', '--socket', socket], c.io)).toBe(1);
    expect(c.err()).toContain('503');
    const odd = await standIn(() => ({ status: 200, body: { found: 'everything' } }));
    const o = capture();
    expect(await runCli(['check', '--socket', odd], o.io)).toBe(1);
    expect(o.err()).toContain('not what this CLI understands');
  });
});

describe('hostnic-agent nics clear', () => {
  const nics = [
    { nicId: '52:54:00:00:00:01', vxnetId: 'vxnet-a', outcome: 'would-release' },
    { nicId: '52:54:00:00:00:02', vxnetId: 'vxnet-b', outcome: 'kept', reason: '2 pod(s) on it' },
  ];

  it('--dry-run sends dryRun=true and lists each NIC with its outcome', async () => {
    const seen: StandInRequest[] = [];
    const socket = await standIn((r) => {
      seen.push(r);
      return { status: 200, body: { nics } };
    });
    const c = capture();
    expect(await runCli(['nics', 'clear', '--dry-run', '--socket', socket], c.io)).toBe(0);
    expect(seen).toEqual([{ method: 'POST', url: '/v1/nics/clear', body: '{"dryRun":true}' }]);
    const lines = c.out().trimEnd().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['NICID', 'VXNETID', 'OUTCOME', 'REASON']);
    expect(lines[1]).toMatch(/52:54:00:00:00:01\s+vxnet-a\s+would-release/);
    expect(lines[2]).toMatch(/kept\s+2 pod\(s\) on it$/);
  });

  it('without --dry-run sends dryRun=false; a failed release exits 1', async () => {
    const seen: string[] = [];
    const socket = await standIn((r) => {
      seen.push(r.body);
      return { status: 200, body: { nics: [{ nicId: '52:54:00:00:00:01', vxnetId: 'vxnet-a', outcome: 'failed', reason: 'DetachNics refused' }] } };
    });
    const c = capture();
    expect(await runCli(['nics', 'clear', '--socket', socket], c.io)).toBe(1);
    expect(seen).toEqual(['{"dryRun":false}']);
    expect(c.out()).toContain('DetachNics refused');
  });
});
