/**
 * An informer's cache and its handlers: objects by `namespace/name`, events delivered synchronously in
 * order. It knows nothing of how the objects arrive.
 */

import type { Logger } from '../log.ts';
import type { InformerEvent, InformerHandler } from './informer-events.ts';
import { describeError } from './status.ts';

/** The part of an object's metadata a cache needs. */
export interface ObjectIdentity {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | undefined;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function objectKey(obj: ObjectIdentity): string {
  return keyOf(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** `namespace/name` of an object not yet decoded, for logs (empty when it has none). */
export function rawName(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return '';
  const metadata: unknown = (raw as Record<string, unknown>)['metadata'];
  if (typeof metadata !== 'object' || metadata === null) return '';
  const { name, namespace } = metadata as Record<string, unknown>;
  return keyOf(typeof namespace === 'string' ? namespace : undefined, typeof name === 'string' ? name : '');
}

export class InformerStore<T extends ObjectIdentity> {
  readonly #cache = new Map<string, T>();
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Handlers run synchronously in event order; one that throws is logged and does not stop the others. */
  onEvent(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#cache.get(keyOf(namespace, name));
  }

  list(namespace?: string): T[] {
    const all = [...this.#cache.values()];
    return namespace === undefined ? all : all.filter((obj) => obj.metadata?.namespace === namespace);
  }

  upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.#cache.get(key);
    this.#cache.set(key, obj);
    this.#emit(old === undefined ? { type: 'add', object: obj } : { type: 'update', object: obj, old });
  }

  remove(obj: T): void {
    this.#cache.delete(objectKey(obj));
    this.#emit({ type: 'delete', object: obj });
  }

  /**
   * A fresh list: objects gone from it are deleted, new ones added, changed ones (another resourceVersion)
   * updated; unchanged ones deliver nothing.
   */
  replace(items: readonly T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.#cache.get(key);
      if (old !== undefined && old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.upsert(obj);
    }
    for (const [key, obj] of [...this.#cache]) if (!seen.has(key)) this.remove(obj);
  }

  resync(): void {
    for (const obj of [...this.#cache.values()]) this.#emit({ type: 'resync', object: obj });
  }

  #emit(event: InformerEvent<T>): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler(event);
      } catch (error) {
        this.#log.error('event handler threw', { type: event.type, object: objectKey(event.object), error: describeError(error) });
      }
    }
  }
}
