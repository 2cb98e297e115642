/**
 * Time text formats found in IPAM objects. No clock is read here: times are always passed in.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from './errors.ts';

/**
 * Checks that `date` is a valid Date and returns its epoch milliseconds. Internal: not exported by the package.
 * @param date - the date
 * @param field - the argument name for the error
 * @throws {@link InvalidArgumentError} for an invalid Date
 */
export function epochMs(date: Date, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError(field, 'must be a valid Date');
  return ms;
}

/**
 * Formats a time as Go's `time.Time.String()` of a UTC time, the style of the `timestamp` attribute of pod
 * allocations [compat]: `2025-03-03 08:01:02.123 +0000 UTC` (fraction without trailing zeros, omitted when 0).
 * @param date - the time
 * @throws {@link InvalidArgumentError} for an invalid Date
 */
export function formatGoTimestamp(date: Date): string {
  epochMs(date, 'date');
  const iso = date.toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction === '' ? '' : `.${fraction}`} +0000 UTC`;
}

const GO_TIME =
  /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,9})? ([+-])(\d{2})(\d{2})(?: [A-Za-z0-9+-]+)?(?: m=[+-][0-9.]+)?$/;

/**
 * Parses a time written by Go's `time.Time.String()` (any zone offset, optional monotonic suffix) or as
 * RFC 3339.
 * @param text - the time text
 * @returns the time, or undefined when `text` is in neither format
 */
export function parseTimestamp(text: string): Date | undefined {
  const go = GO_TIME.exec(text);
  if (go !== null) {
    const [, day, clock, fraction, sign, hours, minutes] = go;
    const ms = (fraction ?? '').slice(1, 4).padEnd(3, '0');
    const date = new Date(`${day}T${clock}.${ms}${sign}${hours}:${minutes}`);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
