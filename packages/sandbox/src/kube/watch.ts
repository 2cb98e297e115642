import type { ServerResponse } from 'node:http';
import type { JsonObject } from './json.ts';
import { getObject } from './json.ts';
import { parseResourceVersion, present } from './operations.ts';
import { apiVersionOf, resourceId } from './resources.ts';
import type { ResourceDef } from './resources.ts';
import { selects } from './selectors.ts';
import type { Selection } from './selectors.ts';
import { expired, statusBody } from './status.ts';
import type { Store, StoredEvent } from './store.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchRequest {
  readonly def: ResourceDef;
  readonly version: string;
  readonly selection: Selection;
  readonly resourceVersion: string | undefined;
  readonly allowBookmarks: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly sendInitialEvents: boolean | undefined;
  /** How each object goes out, e.g. as a one-row Table for `kubectl get -w`; default as stored. */
  readonly render?: (obj: JsonObject) => JsonObject;
}

/** Who is watching what, for faults that cut watches selectively. */
export interface WatchInfo {
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | undefined;
}

interface Session {
  readonly info: WatchInfo;
  /** Settles once the last byte is handed to the socket or the connection is gone. */
  readonly finished: Promise<void>;
  end(): void;
}

/**
 * Maps one committed change to what a watcher with this selection sees. An object that starts or stops
 * matching arrives as ADDED or DELETED, as the apiserver's watch cache does it.
 */
function translate(event: StoredEvent, selection: Selection): { type: WatchEventType; object: JsonObject } | undefined {
  const now = selects(selection, event.object);
  const before = event.prev !== undefined && selects(selection, event.prev);
  switch (event.type) {
    case 'ADDED':
      return now ? { type: 'ADDED', object: event.object } : undefined;
    case 'DELETED':
      return now || before ? { type: 'DELETED', object: event.object } : undefined;
    case 'MODIFIED':
      if (now && before) return { type: 'MODIFIED', object: event.object };
      if (now) return { type: 'ADDED', object: event.object };
      if (before && event.prev) {
        const prevMeta = getObject(event.prev, 'metadata') ?? {};
        return { type: 'DELETED', object: { ...event.prev, metadata: { ...prevMeta, resourceVersion: String(event.rv) } } };
      }
      return undefined;
  }
  return undefined;
}

/** Streams watch events as newline-delimited JSON and ends every stream on demand. */
export class WatchHub {
  readonly #store: Store;
  readonly #bookmarkIntervalMs: number;
  readonly #sessions = new Set<Session>();

  constructor(store: Store, bookmarkIntervalMs: number) {
    this.#store = store;
    this.#bookmarkIntervalMs = bookmarkIntervalMs;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Validates the request (throwing an ApiError before any byte is sent) and then takes over `res`.
   * `onStart` runs once the 200 header is out.
   */
  start(res: ServerResponse, request: WatchRequest, info: WatchInfo, onStart: () => void): void {
    const { def, version, selection } = request;
    const id = resourceId(def);
    const rvText = request.resourceVersion ?? '';
    const fromNow = rvText === '' || rvText === '0';
    const rv = fromNow ? this.#store.currentRv() : parseResourceVersion(rvText);
    const backlog = fromNow ? [] : this.#store.eventsSince(id, rv);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    onStart();
    const write = (type: WatchEventType, object: JsonObject): void => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    };

    if (backlog === undefined) {
      // The window no longer holds every event after rv: the client must relist.
      const error = expired(`too old resource version: ${rv} (${this.#store.oldestRv(id)})`);
      write('ERROR', statusBody(error));
      res.end();
      return;
    }

    const bookmark = (annotations?: JsonObject): void => {
      const metadata: JsonObject = { resourceVersion: String(this.#store.currentRv()) };
      if (annotations) metadata['annotations'] = annotations;
      write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def.group, version), metadata });
    };

    const send = (event: StoredEvent): void => {
      const out = translate(event, selection);
      if (!out) return;
      const object = present(def, version, out.object);
      write(out.type, request.render ? request.render(object) : object);
    };

    let unsubscribe = (): void => undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
    const session: Session = {
      info,
      finished,
      end: () => {
        cleanup();
        if (!res.writableEnded) res.end();
      },
    };
    const cleanup = (): void => {
      unsubscribe();
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      this.#sessions.delete(session);
    };

    // Everything from here to subscribe() is synchronous, so no change can slip between backlog and live.
    if (fromNow) {
      for (const [, obj] of this.#store.entries(id)) {
        if (selects(selection, obj)) write('ADDED', present(def, version, obj));
      }
      if (request.sendInitialEvents && request.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      for (const event of backlog) send(event);
    }
    unsubscribe = this.#store.subscribe(id, send);
    this.#sessions.add(session);
    res.on('close', cleanup);
    if (request.allowBookmarks) {
      bookmarkTimer = setInterval(() => bookmark(), this.#bookmarkIntervalMs);
      bookmarkTimer.unref();
    }
    if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
      timeoutTimer = setTimeout(session.end, request.timeoutSeconds * 1000);
      timeoutTimer.unref();
    }
  }

  /** Ends every stream and waits (at most `graceMs`) for the ends to reach the sockets. */
  async drain(graceMs: number): Promise<void> {
    const finished = [...this.#sessions].map((s) => s.finished);
    this.endAll();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(finished), timeout]);
    clearTimeout(timer);
  }

  /** Ends matching streams cleanly (clients see end of stream and, like informers, reconnect). */
  endAll(match?: (info: WatchInfo) => boolean): number {
    let count = 0;
    for (const session of [...this.#sessions]) {
      if (match && !match(session.info)) continue;
      session.end();
      count++;
    }
    return count;
  }
}
