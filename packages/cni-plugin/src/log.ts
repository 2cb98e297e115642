/**
 * Logging: JSON lines to `logFile`, or to stderr when there is none. Never stdout (that is the protocol),
 * and never a reason to fail a CNI call: a log file that cannot be opened falls back to stderr.
 */

import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogLevel } from './netconf.ts';
import { LogLevels } from './netconf.ts';

export type Fields = Record<string, string | number | boolean | undefined>;

const NAMES: Record<number, string> = { 0: 'panic', 1: 'fatal', 2: 'error', 3: 'warn', 4: 'info', 5: 'debug', 6: 'trace' };

export class Logger {
  private level: LogLevel;
  private fd = 2;
  private readonly base: Fields;

  constructor(level: LogLevel = LogLevels.info, base: Fields = {}) {
    this.level = level;
    this.base = base;
  }

  /**
   * Switches to `file` (append, created 0644, as the original did; its directory is not created); on failure
   * stays on stderr and says so.
   */
  setOutput(file: string | undefined, level: LogLevel): void {
    this.level = level;
    if (file === undefined) return;
    try {
      const fd = openSync(file, 'a', 0o644);
      this.close();
      this.fd = fd;
    } catch (e) {
      this.warn('cannot open logFile; logging to stderr', { logFile: file, error: e instanceof Error ? e.message : String(e) });
    }
  }

  enabled(level: LogLevel): boolean {
    return level <= this.level;
  }

  log(level: LogLevel, msg: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level: NAMES[level], msg, ...this.base };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) line[k] = v;
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
    } catch {
      // A full disk or a closed stderr must not turn a successful CNI call into a failed one.
    }
  }

  error(msg: string, fields?: Fields): void {
    this.log(LogLevels.error, msg, fields);
  }

  warn(msg: string, fields?: Fields): void {
    this.log(LogLevels.warn, msg, fields);
  }

  info(msg: string, fields?: Fields): void {
    this.log(LogLevels.info, msg, fields);
  }

  debug(msg: string, fields?: Fields): void {
    this.log(LogLevels.debug, msg, fields);
  }

  close(): void {
    if (this.fd === 2) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = 2;
  }
}
