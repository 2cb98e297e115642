/** Structured log lines (one JSON object per line) on stderr, so that a log shipper can parse them. */

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LogLevel;

export function jsonLogger(
  write: (line: string) => void,
  options: { level?: LogLevel; now?: () => Date; fields?: LogFields } = {},
): Logger {
  const min = LogLevel[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LogLevel[level] < min) return;
    const line: Record<string, unknown> = { ts: now().toISOString(), level, msg: message };
    for (const [k, v] of Object.entries({ ...base, ...fields })) line[k] = v instanceof Error ? v.message : v;
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => jsonLogger(write, { ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  with: () => silentLogger,
};

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
