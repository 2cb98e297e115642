/**
 * A watch answer is a stream of JSON objects, one per line, cut into chunks anywhere (also inside a UTF-8
 * sequence). This turns chunks into events (pure).
 */

import { KubeApiError, KubeDecodeError } from './errors.ts';
import type { KubeStatus } from './errors.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T> {
  readonly type: WatchEventType;
  /** For BOOKMARK only `metadata.resourceVersion` is meaningful. */
  readonly object: T;
}

const TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/** Splits decoded text into complete lines, keeping the unfinished tail for the next chunk. */
export class LineSplitter {
  readonly #decoder = new TextDecoder();
  #tail = '';

  push(chunk: Uint8Array): string[] {
    const text = this.#tail + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.#tail = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '');
  }

  /** What is left when the stream ends (a last line without a newline). */
  end(): string[] {
    const rest = this.#tail + this.#decoder.decode();
    this.#tail = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

/**
 * One watch line as an event. An `ERROR` event carries a Status; it is thrown as a {@link KubeApiError}
 * with the Status' code, so that 410 Gone (the resourceVersion is too old) reads the same whether the
 * apiserver said it in the HTTP status or inside the stream.
 * @throws {@link KubeApiError} for ERROR events, {@link KubeDecodeError} for lines that are not events
 */
export function parseWatchLine<T>(line: string, path: string): WatchEvent<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new KubeDecodeError(`watch ${path}: a line is not JSON: ${line.slice(0, 120)}`);
  }
  if (typeof value !== 'object' || value === null) throw new KubeDecodeError(`watch ${path}: an event is not an object`);
  const { type, object } = value as { type?: unknown; object?: unknown };
  if (type === 'ERROR') {
    const status = (typeof object === 'object' && object !== null ? object : {}) as KubeStatus;
    throw new KubeApiError('WATCH', path, typeof status.code === 'number' ? status.code : 500, status);
  }
  if (typeof type !== 'string' || !TYPES.has(type)) throw new KubeDecodeError(`watch ${path}: unknown event type ${String(type)}`);
  if (typeof object !== 'object' || object === null) throw new KubeDecodeError(`watch ${path}: ${type} event without an object`);
  return { type: type as WatchEventType, object: object as T };
}
