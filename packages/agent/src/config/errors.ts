/**
 * Typed errors of configuration, identity and install-cni. Every one names what is wrong (a field, a file,
 * an environment variable) so that the one log line a crash-looping DaemonSet pod leaves is enough to fix it.
 */

export type ConfigErrorCode =
  | 'config-parse'
  | 'config-invalid'
  | 'config-read'
  | 'identity'
  | 'cni-config-invalid'
  | 'install-cni';

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
  readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The file is not valid JSON; `line`/`column` are 1-based, `position` a 0-based character offset. */
export class ConfigParseError extends AgentConfigError {
  override name = 'ConfigParseError';
  readonly file: string;
  readonly position: number;
  readonly line: number;
  readonly column: number;
  constructor(file: string, position: number, line: number, column: number, detail: string) {
    super('config-parse', `${file}: invalid JSON at line ${line} column ${column} (position ${position}): ${detail}`);
    this.file = file;
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

/** A field has a wrong type or value; `field` is the dotted canonical name, e.g. `pool.sync`. */
export class ConfigValidationError extends AgentConfigError {
  override name = 'ConfigValidationError';
  readonly file: string;
  readonly field: string;
  constructor(file: string, field: string, message: string) {
    super('config-invalid', `${file}: ${message}`);
    this.file = file;
    this.field = field;
  }
}

/** A config file exists (or was asked for explicitly) but cannot be read. */
export class ConfigReadError extends AgentConfigError {
  override name = 'ConfigReadError';
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super('config-read', `${file}: ${message}`, { cause });
    this.file = file;
  }
}

/** Instance id or node name unavailable; `source` is the file or the environment variables consulted. */
export class IdentityError extends AgentConfigError {
  override name = 'IdentityError';
  readonly source: string;
  constructor(source: string, message: string, cause?: unknown) {
    super('identity', message, { cause });
    this.source = source;
  }
}

/** The hostnic-cni content would not work as a CNI config; nothing has been written. */
export class CniConfigError extends AgentConfigError {
  override name = 'CniConfigError';
  readonly source: string;
  readonly field: string;
  constructor(source: string, field: string, message: string) {
    super('cni-config-invalid', `${source}: ${message}`);
    this.source = source;
    this.field = field;
  }
}

/** A file of the install could not be read or written. */
export class InstallCniError extends AgentConfigError {
  override name = 'InstallCniError';
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super('install-cni', `${path}: ${message}`, { cause });
    this.path = path;
  }
}

export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
