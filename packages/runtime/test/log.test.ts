import { describe, expect, it } from 'vitest';
import { chooseLevel, createLogger, levelFromVerbosity } from '../src/index.ts';
import type { LoggerOptions } from '../src/index.ts';

function capture(options: Omit<LoggerOptions, 'destination'> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ ...options, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { log, lines };
}

describe('createLogger', () => {
  it('writes the keys of the CNI plugin log: time (ISO), level (name), msg, then the fields', () => {
    const { log, lines } = capture({ fields: { component: 'agent' } });
    log.info('pod added', { pod: 'default/nginx', ip: '172.16.3.2', skipped: undefined });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(Object.keys(line).slice(0, 3)).toEqual(['level', 'time', 'component']);
    expect(line['level']).toBe('info');
    expect(line['msg']).toBe('pod added');
    expect(new Date(String(line['time'])).toISOString()).toBe(line['time']);
    expect(line).toMatchObject({ component: 'agent', pod: 'default/nginx', ip: '172.16.3.2' });
    expect('skipped' in line).toBe(false);
  });

  it('drops lines below the level', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l['level'])).toEqual(['warn', 'error']);
    expect(log.isLevelEnabled('info')).toBe(false);
  });

  it('keeps the type, message, stack and cause of an Error under any key', () => {
    const { log, lines } = capture();
    const cause = new RangeError('table 260 is taken');
    log.error('ADD failed', { error: new Error('route table setup failed', { cause }) });
    const error = lines[0]!['error'] as Record<string, unknown>;
    expect(error['type']).toBe('Error');
    expect(error['message']).toBe('route table setup failed');
    expect(String(error['stack'])).toContain('log.test.ts');
    expect(error['cause']).toMatchObject({ type: 'RangeError', message: 'table 260 is taken' });
  });

  it('with() adds fields to every line of the child only', () => {
    const { log, lines } = capture();
    const child = log.with({ informer: 'pods' });
    child.warn('restarting');
    log.warn('plain');
    expect(lines[0]).toMatchObject({ informer: 'pods', msg: 'restarting' });
    expect('informer' in lines[1]!).toBe(false);
  });
});

describe('levels from flags', () => {
  it('maps Go verbosity: 0-2 info, 3-4 debug, 5+ trace', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(levelFromVerbosity)).toEqual(['info', 'info', 'info', 'debug', 'debug', 'trace', 'trace']);
  });

  it('--log-level wins over --v; neither means info', () => {
    expect(chooseLevel({ logLevel: 'error', v: 5 })).toBe('error');
    expect(chooseLevel({ v: 4 })).toBe('debug');
    expect(chooseLevel({})).toBe('info');
  });

  it('names the flag of a bad value', () => {
    expect(() => chooseLevel({ logLevel: 'verbose' })).toThrow(/--log-level: must be one of error, warn, info, debug, trace/);
    expect(() => levelFromVerbosity(-1)).toThrow(/--v: /);
  });
});
