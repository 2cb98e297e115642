import { describe, expect, it } from 'vitest';
import { formatDuration, InvalidDurationError, parseDuration } from '../../src/cli/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['5m', 300_000],
    ['30s', 30_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['300000', 300_000],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--grace')).toBe(ms);
  });

  it.each(['', 'abc', '5 m', '-5m', '5d', 'm', '5mm'])('refuses %j, naming the option', (text) => {
    const error = (() => {
      try {
        parseDuration(text, '--grace');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidDurationError);
    expect((error as InvalidDurationError).option).toBe('--grace');
    expect((error as Error).message).toMatch(/^--grace ".*" (is not a duration|is empty): write it like 30s, 5m/);
  });
});

describe('formatDuration', () => {
  it.each([
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [45_000, '45s'],
    [250, '250ms'],
    [0, '0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
