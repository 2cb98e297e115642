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
