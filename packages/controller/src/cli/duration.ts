/**
 * Durations on the command line: `30s`, `5m`, `1h`, `1h30m`, `250ms` (Go's `time.ParseDuration` units that
 * make sense for an operator), or a plain number of milliseconds.
 */

/** A command-line duration that could not be read; names the option so the operator knows which to fix. */
export class InvalidDurationError extends Error {
  override name = 'InvalidDurationError';
  readonly option: string;
  readonly value: string;

  constructor(option: string, value: string, problem: string) {
    super(`${option} ${JSON.stringify(value)} ${problem}: write it like 30s, 5m, 1h, 1h30m or a number of milliseconds`);
    this.option = option;
    this.value = value;
  }
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/**
 * Milliseconds of a duration text.
 * @param text - `5m`, `30s`, `1h`, `1h30m`, `250ms` or plain milliseconds (`300000`)
 * @param option - the option it came from, for the error (e.g. `--grace`)
 * @throws {@link InvalidDurationError}
 */
export function parseDuration(text: string, option: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidDurationError(option, text, 'is empty');
  if (/^\d+$/.test(trimmed)) return checked(Number(trimmed), option, text);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (match === null || match.index !== start) throw new InvalidDurationError(option, text, 'is not a duration');
    const [, amount, unit] = match;
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return checked(Math.round(total), option, text);
}

function checked(ms: number, option: string, text: string): number {
  if (!Number.isSafeInteger(ms)) throw new InvalidDurationError(option, text, 'is too long');
  return ms;
}

/**
 * A short text of a duration for reports: `5m`, `1h30m`, `45s`, `250ms`.
 * @param ms - milliseconds, ≥ 0
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let seconds = ms / 1000;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours > 0 ? `${hours}h` : ''}${minutes > 0 ? `${minutes}m` : ''}${seconds > 0 ? `${seconds}s` : ''}`;
}
