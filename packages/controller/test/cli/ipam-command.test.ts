import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ipamCommand } from '../../src/cli/ipam.ts';
import { at, exampleStore, handleOf, runIpam, runIpamWith } from './helpers.ts';

describe('the ipam command', () => {
  it('has the subcommands show, check and release', () => {
    expect(ipamCommand({}).commands.map((c) => c.name())).toEqual(['show', 'check', 'release']);
  });

  it('prints help to the given stdout and throws instead of exiting', async () => {
    const sink = { stdout: '', stderr: '' };
    const error = await runIpamWith(['release', '--help'], {}, sink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(0);
    expect(sink.stdout).toContain('Usage: ipam release [options]');
    expect(sink.stdout).toContain('--dry-run');
  });

  it('reports an unknown option through a CommanderError, with the message on the given stderr', async () => {
    const sink = { stdout: '', stderr: '' };
    const error = await runIpamWith(['check', '--bogus'], {}, sink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(1);
    expect(sink.stderr).toContain("error: unknown option '--bogus'");
  });

  it('--release-cooldown sets what show calls cooling and is checked', async () => {
    const { store, ipam } = await exampleStore();
    await ipam.release(handleOf('db'), { now: at(0) });
    const deps = { openStore: async () => store, now: () => at(90_000) };
    const standard = await runIpam(['show', '-o', 'json', '--ip', '172.16.3.4'], deps);
    expect(JSON.parse(standard.stdout)).toMatchObject({ addresses: [{ state: 'free' }] });
    const longer = await runIpam(['--release-cooldown', '2m', 'show', '-o', 'json', '--ip', '172.16.3.4'], deps);
    expect(JSON.parse(longer.stdout)).toMatchObject({ addresses: [{ state: 'cooling', coolingUntil: at(120_000).toISOString() }] });
    const bad = await runIpam(['--release-cooldown', 'long', 'show'], deps);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--release-cooldown "long" is not a duration');
  });
});
