/**
 * The bearer token of a request: a fixed one from the kubeconfig, or a file read again when it changes
 * (kubelet rotates projected service account tokens in place; client-go re-reads them too).
 */

import { readFile, stat } from 'node:fs/promises';
import { KubeConfigError } from './errors.ts';

export interface TokenSource {
  /** The token to send, or undefined for none. */
  token(): Promise<string | undefined>;
  /** The apiserver refused the token (401): read it afresh next time. */
  invalidate(): void;
}

export function fixedToken(token: string | undefined): TokenSource {
  return { token: () => Promise.resolve(token), invalidate: () => undefined };
}

/** How long a read token is trusted before the file is looked at again (a stat, not a read). */
const RECHECK_MS = 1000;

export class FileTokenSource implements TokenSource {
  readonly file: string;
  readonly #now: () => number;
  #token: string | undefined;
  #stamp = '';
  #checkedAt = Number.NEGATIVE_INFINITY;
  /** Reads of the file, for tests. */
  reads = 0;

  constructor(file: string, now: () => number = () => performance.now()) {
    this.file = file;
    this.#now = now;
  }

  async token(): Promise<string> {
    const now = this.#now();
    if (this.#token !== undefined && now - this.#checkedAt < RECHECK_MS) return this.#token;
    let stamp: string;
    try {
      const info = await stat(this.file);
      stamp = `${info.mtimeMs}:${info.size}:${info.ino}`;
    } catch (e) {
      throw new KubeConfigError('tokenFile', `cannot read ${this.file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#checkedAt = now;
    if (this.#token === undefined || stamp !== this.#stamp) {
      const text = (await readFile(this.file, 'utf8')).trim();
      this.reads++;
      if (text === '') throw new KubeConfigError('tokenFile', `${this.file} is empty`);
      this.#token = text;
      this.#stamp = stamp;
    }
    return this.#token;
  }

  invalidate(): void {
    this.#token = undefined;
  }
}
