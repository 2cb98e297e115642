/** Structured log lines (one JSON object per line) on stderr, so the DaemonSet's log shipper can parse them. */

export interface DaemonLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void, now: () => Date = () => new Date()): DaemonLogger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const line: Record<string, unknown> = { ts: now().toISOString(), level, msg: message };
    for (const [k, v] of Object.entries(fields ?? {})) line[k] = v instanceof Error ? v.message : v;
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
