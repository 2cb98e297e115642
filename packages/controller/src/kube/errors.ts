/** A second concurrent run() of something that must run once at a time. */
export class AlreadyRunningError extends Error {
  constructor(what: string) {
    super(`${what} is already running`);
    this.name = 'AlreadyRunningError';
  }
}
