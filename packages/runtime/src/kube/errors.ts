/** Errors of the informers. */

/** An informer was used after stop(): it will never list again. */
export class InformerStoppedError extends Error {
  readonly informer: string;

  constructor(informer: string) {
    super(`informer ${informer} is stopped`);
    this.name = 'InformerStoppedError';
    this.informer = informer;
  }
}

/** The caller gave up waiting for an informer's first list. */
export class SyncAbortedError extends Error {
  readonly informer: string;

  constructor(informer: string, options?: { cause?: unknown }) {
    super(`waiting for informer ${informer} to sync was aborted`, options);
    this.name = 'SyncAbortedError';
    this.informer = informer;
  }
}

/** The apiserver answered with something that is not the Kubernetes object or list we asked for. */
export class MalformedObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedObjectError';
  }
}
