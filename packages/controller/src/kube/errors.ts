/** An option that cannot work, named so that the operator knows which flag or field to fix. */
export class InvalidOptionError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'InvalidOptionError';
    this.field = field;
  }
}

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

/** A second concurrent run() of something that must run once at a time. */
export class AlreadyRunningError extends Error {
  constructor(what: string) {
    super(`${what} is already running`);
    this.name = 'AlreadyRunningError';
  }
}

/** The apiserver answered with something that is not the Kubernetes object or list we asked for. */
export class MalformedObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedObjectError';
  }
}
