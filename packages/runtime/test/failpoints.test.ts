import { describe, expect, it } from 'vitest';
import { FAILPOINT_ENV, UnknownFailpointError, failpointFromEnv } from '../src/index.ts';

const STEPS = ['a:first', 'a:second'] as const;

describe('failpointFromEnv', () => {
  it('kills at the named step only, once per arrival', async () => {
    const kills: string[] = [];
    let at = '';
    const fp = failpointFromEnv(STEPS, { [FAILPOINT_ENV]: 'a:second' }, () => kills.push(at));
    for (const step of ['a:first', 'a:second', 'a:first', 'a:second'] as const) {
      at = step;
      await fp(step);
    }
    expect(kills).toEqual(['a:second', 'a:second']);
  });

  it('does nothing when unset or empty', async () => {
    let kills = 0;
    for (const env of [{}, { [FAILPOINT_ENV]: '' }]) {
      const fp = failpointFromEnv(STEPS, env, () => kills++);
      for (const step of STEPS) await fp(step);
    }
    expect(kills).toBe(0);
  });

  it('refuses a name that is not a step, listing the known ones', () => {
    expect(() => failpointFromEnv(STEPS, { [FAILPOINT_ENV]: 'a:thrid' })).toThrow(UnknownFailpointError);
    expect(() => failpointFromEnv(STEPS, { [FAILPOINT_ENV]: 'a:thrid' })).toThrow('HOSTNIC_FAILPOINT=a:thrid names no step; known: a:first, a:second');
  });
});
