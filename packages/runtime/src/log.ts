/**
 * The daemons' logger: pino writing one JSON object a line to stderr, with the keys of the CNI plugin's log
 * (`time` as ISO 8601, `level` as a name, `msg`), so that one parser reads the plugin's file and the pods'
 * logs alike. Call sites pass the message first and the fields second, as the plugin does.
 */

import { pino, stdSerializers } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { InvalidOptionError } from './errors.ts';

export type LogFields = Readonly<Record<string, unknown>>;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** Default info. */
  readonly level?: LogLevel;
  /** Fields on every line (e.g. the component and the node). */
  readonly fields?: LogFields;
  /** Where lines go; default stderr, written synchronously so that a crash loses no line. */
  readonly destination?: DestinationStream;
}

/**
 * Go-style verbosity (`--v`, as klog reads it) to a level: 0 to 2 is info, 3 and 4 debug, 5 and above trace.
 * The Go daemons logged their per-request details at V(4) and their wire details at V(5).
 */
export function levelFromVerbosity(v: number): LogLevel {
  if (!Number.isInteger(v) || v < 0) throw new InvalidOptionError('--v', `must be a whole number from 0, got ${v}`);
  if (v >= 5) return 'trace';
  return v >= 3 ? 'debug' : 'info';
}

/** `--log-level` wins when given; else `--v`; else info. */
export function chooseLevel(flags: { logLevel?: string | undefined; v?: number | undefined }): LogLevel {
  if (flags.logLevel !== undefined) {
    const level = LOG_LEVELS.find((l) => l === flags.logLevel);
    if (level === undefined) throw new InvalidOptionError('--log-level', `must be one of ${LOG_LEVELS.join(', ')}, got "${flags.logLevel}"`);
    return level;
  }
  return flags.v === undefined ? 'info' : levelFromVerbosity(flags.v);
}

/** An Error under any key keeps its type, message, stack and cause chain (pino would print `{}`). */
function serializeValue(value: unknown): unknown {
  return value instanceof Error ? stdSerializers.errWithCause(value) : value;
}

function adapt(p: PinoLogger): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields): void => {
    if (!p.isLevelEnabled(level)) return;
    if (fields === undefined) {
      p[level](message);
      return;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = serializeValue(v);
    p[level](out, message);
  };
  return {
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    with: (fields) => adapt(p.child(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, serializeValue(v)])))),
    isLevelEnabled: (level) => p.isLevelEnabled(level),
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const p = pino(
    {
      level: options.level ?? 'info',
      base: options.fields === undefined ? null : { ...options.fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return adapt(p);
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  with: () => silentLogger,
  isLevelEnabled: () => false,
};
