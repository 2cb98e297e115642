import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigParseError,
  ConfigReadError,
  ConfigValidationError,
  defaultAgentConfig,
  loadAgentConfig,
  parseAgentConfig,
} from '../../src/config/index.ts';
import { DEPLOYED_HOSTNIC, README_HOSTNIC, useTempDirs } from './helpers.ts';

const tempDir = useTempDirs();

function rejects(input: unknown, field: string): ConfigValidationError {
  try {
    parseAgentConfig(input, 'hostnic.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    const e = err as ConfigValidationError;
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
    return e;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('hostnic.json', () => {
  it('1: no file → every original default', async () => {
    const dir = await tempDir();
    const loaded = await loadAgentConfig(path.join(dir, 'hostnic.json'));
    expect(loaded.fromFile).toBe(false);
    expect(loaded.warnings).toEqual([]);
    const { pool, server } = loaded.config;
    expect(pool).toMatchObject({
      maxNic: 63,
      sync: 20,
      nodeSync: 60,
      routeTableBase: 260,
      nodeThreshold: 32,
      vxnetThreshold: 128,
      freePeriod: 720,
      tag: '',
      vxNets: [],
    });
    expect(server).toEqual({ serverPath: '/var/run/hostnic/hostnic.socket', networkPolicy: '' });
    expect(loaded.config).toEqual(defaultAgentConfig());
  });

  it('new agent section has its defaults', () => {
    expect(parseAgentConfig('{}', 'x').config.agent).toMatchObject({
      attachTimeoutSec: 120,
      linkTimeoutSec: 60,
      warmNicsPerVxnet: 0,
      releaseCooldownSec: 60,
      warmIpTarget: 8,
      warmIpMinimum: 4,
      warmIpMaximum: 24,
      metricsPort: 9191,
      stateDir: '/var/lib/hostnic',
      spoolDir: '/var/lib/hostnic/spool',
    });
  });

  it('refuses warm-address marks out of order or out of bounds, naming the field and the fix', () => {
    const parse = (agent: Record<string, number>) => () => parseAgentConfig(JSON.stringify({ agent }), 'hostnic.json');
    expect(parse({ warmIpTarget: 4, warmIpMinimum: 5 })).toThrow(/agent\.warmIpMinimum 5 exceeds agent\.warmIpTarget 4: lower it/);
    expect(parse({ warmIpTarget: 30 })).toThrow(/agent\.warmIpMaximum 24 is below agent\.warmIpTarget 30: raise it/);
    expect(parse({ warmIpTarget: 2000 })).toThrow(/agent\.warmIpTarget must be an integer from 0 to 1024/);
    // 0 turns the claim off; the other marks do not matter then.
    expect(parseAgentConfig(JSON.stringify({ agent: { warmIpTarget: 0, warmIpMinimum: 9 } }), 'x').config.agent.warmIpTarget).toBe(0);
  });

  it('an explicitly given file that is missing is an error naming it', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'nope.json');
    const err = await loadAgentConfig(file, { required: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigReadError);
    expect((err as Error).message).toContain(file);
  });

  it('2: {"pool":{"maxNic":60}} → maxNic 60, everything else default', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'hostnic.json');
    await writeFile(file, '{"pool":{"maxNic":60}}');
    const loaded = await loadAgentConfig(file);
    const expected = defaultAgentConfig();
    expected.pool.maxNic = 60;
    expect(loaded.config).toEqual(expected);
    expect(loaded.warnings).toEqual([]);
  });

  it('3: keys match case-insensitively, with a warning naming the normalised key', () => {
    const { config, warnings } = parseAgentConfig('{"POOL":{"MAXNIC":10}}', 'hostnic.json');
    expect(config.pool.maxNic).toBe(10);
    expect(warnings.map((w) => w.field)).toEqual(['pool', 'pool.maxNic']);
    expect(warnings[1]?.message).toContain('"maxNic"');
  });

  it('3: a number written as a string is accepted with a warning', () => {
    const { config, warnings } = parseAgentConfig({ pool: { maxNic: '10' } }, 'hostnic.json');
    expect(config.pool.maxNic).toBe(10);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.field).toBe('pool.maxNic');
  });

  it('booleans, fractions and non-numeric strings are rejected naming the field', () => {
    rejects({ pool: { maxNic: true } }, 'pool.maxNic');
    rejects({ pool: { maxNic: 1.5 } }, 'pool.maxNic');
    rejects({ pool: { sync: 'ten' } }, 'pool.sync');
    rejects({ server: { serverPath: 5 } }, 'server.serverPath');
    rejects({ server: { serverPath: 'relative.sock' } }, 'server.serverPath');
    rejects({ pool: { vxNets: 'vxnet-a' } }, 'pool.vxNets');
    rejects({ pool: 3 }, 'pool');
    rejects({ agent: { metricsPort: 70000 } }, 'agent.metricsPort');
  });

  it('4: the deployed file with poolHigh/poolLow loads (inert keys warn)', () => {
    const { config, warnings } = parseAgentConfig(DEPLOYED_HOSTNIC, 'hostnic.json');
    expect(config.pool.maxNic).toBe(60);
    expect(config.pool.poolHigh).toBe(5);
    expect(config.pool.poolLow).toBe(3);
    expect(warnings.map((w) => w.field).sort()).toEqual(['pool.poolHigh', 'pool.poolLow']);
  });

  it('the seed README example loads: maxNic 60, networkPolicy calico, no warnings', () => {
    const { config, warnings } = parseAgentConfig(README_HOSTNIC, 'hostnic.json');
    expect(config.pool.maxNic).toBe(60);
    expect(config.server.networkPolicy).toBe('calico');
    expect(warnings).toEqual([]);
  });

  it('5: maxNic 64 is rejected naming the field; 63 is accepted', () => {
    const e = rejects({ pool: { maxNic: 64 } }, 'pool.maxNic');
    expect(e.message).toContain('got 64');
    expect(parseAgentConfig({ pool: { maxNic: 63 } }, 'x').config.pool.maxNic).toBe(63);
  });

  it('6: invalid JSON → typed error naming the file and the position', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'hostnic.json');
    await writeFile(file, '{\n  "pool": {"maxNic": 60,}\n}');
    const err = await loadAgentConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigParseError);
    const e = err as ConfigParseError;
    expect(e.file).toBe(file);
    expect(e.line).toBe(2);
    expect(e.column).toBeGreaterThan(1);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/line 2 column \d+/);
    const truncated = (() => {
      try {
        parseAgentConfig('{"pool":', 'h.json');
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(truncated).toBeInstanceOf(ConfigParseError);
    expect((truncated as ConfigParseError).position).toBe(8);
  });

  it('7: sync 0 and freePeriod -1 are rejected with a message naming the field', () => {
    expect(rejects({ pool: { sync: 0 } }, 'pool.sync').message).toContain(
      'pool.sync must be an integer from 1 to 2147483 (seconds; a timer cannot exceed 2^31-1 ms), got 0',
    );
    expect(rejects({ pool: { freePeriod: -1 } }, 'pool.freePeriod').message).toContain(
      'pool.freePeriod must be an integer from 1 to 35791 (minutes; a timer cannot exceed 2^31-1 ms), got -1',
    );
  });

  it('every period, timeout and grace has an upper bound that fits a Node timer', () => {
    const seconds = ['attachTimeoutSec', 'linkTimeoutSec', 'releaseCooldownSec', 'jobPollIntervalSec', 'cacheSyncTimeoutSec', 'spoolReplayIntervalSec', 'orphanPodGraceSec', 'orphanNicGraceSec', 'stopDeadlineSec'];
    const cases: { section: 'pool' | 'agent'; key: string; max: number }[] = [
      { section: 'pool', key: 'sync', max: 2147483 },
      { section: 'pool', key: 'nodeSync', max: 2147483 },
      { section: 'pool', key: 'freePeriod', max: 35791 },
      ...seconds.map((key) => ({ section: 'agent' as const, key, max: 2147483 })),
    ];
    for (const { section, key, max } of cases) {
      // The largest value is accepted and still fits setTimeout; one more is refused naming the field.
      const accepted = parseAgentConfig({ [section]: { [key]: max } }, 'x').config[section] as unknown as Record<string, number>;
      expect(accepted[key]).toBe(max);
      expect(max * (key === 'freePeriod' ? 60_000 : 1000)).toBeLessThanOrEqual(2 ** 31 - 1);
      expect(rejects({ [section]: { [key]: max + 1 } }, `${section}.${key}`).message).toContain(`from`);
    }
    // 30 days of freePeriod (the hot loop of the issue) is refused.
    expect(rejects({ pool: { freePeriod: 30 * 24 * 60 } }, 'pool.freePeriod').message).toContain('2^31-1 ms');
  });

  it('unknown keys and sections are warnings, not errors', () => {
    const { config, warnings } = parseAgentConfig({ pool: { maxNic: 5, bogus: 1 }, extra: {} }, 'x');
    expect(config.pool.maxNic).toBe(5);
    expect(warnings.map((w) => w.field).sort()).toEqual(['extra', 'pool.bogus']);
  });

  it('two spellings of one key are refused', () => {
    rejects({ pool: { maxNic: 5, MAXNIC: 6 } }, 'pool.maxNic');
  });

  it('a route table range crossing the reserved tables is refused', () => {
    rejects({ pool: { routeTableBase: 200 } }, 'pool.routeTableBase');
    expect(parseAgentConfig({ pool: { routeTableBase: 256 } }, 'x').config.pool.routeTableBase).toBe(256);
  });

  it('networkPolicy other than "calico" warns', () => {
    const { warnings } = parseAgentConfig({ server: { networkPolicy: 'Calico' } }, 'x');
    expect(warnings.map((w) => w.field)).toEqual(['server.networkPolicy']);
  });
});
