/** What the informer (./http/informer.ts) delivers and reports. */

export type InformerEventType = 'add' | 'update' | 'delete' | 'resync';

export interface InformerEvent<T> {
  readonly type: InformerEventType;
  readonly object: T;
  /** The cached state before an update. */
  readonly old?: T;
}

export type InformerHandler<T> = (event: InformerEvent<T>) => void;

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export interface InformerStats {
  /** Successful lists (the first and every relist after a 410 or a restart). */
  lists: number;
  /** Failed lists or watches, each followed by a restart. */
  errors: number;
  lastError?: string;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, maxMs: 30_000 };
