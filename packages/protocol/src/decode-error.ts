/** The one error a decoder throws: which field, what was expected there, and what came instead. */

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 40 ? `the string "${value.slice(0, 40)}..."` : `the string "${value}"`;
  return `${typeof value} ${String(value)}`;
}

export class ProtocolDecodeError extends Error {
  override name = 'ProtocolDecodeError';
  /** Dotted path of the field at fault, from the message's root (e.g. `attachment.containerId`). */
  readonly path: string;
  /** What the protocol wants there. */
  readonly expected: string;

  constructor(path: string, expected: string, value: unknown) {
    super(`${path}: expected ${expected}, got ${describe(value)}`);
    this.path = path;
    this.expected = expected;
  }
}
