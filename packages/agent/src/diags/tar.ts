/**
 * A ustar archive writer for the support bundle: regular files only, written in one piece. Node has gzip but
 * no tar, and the image's busybox may be built without its tar applet, so the bundle is assembled here.
 */

export interface TarFile {
  /** Relative path inside the archive, `/`-separated; at most 100 bytes (no prefix field is used). */
  readonly name: string;
  readonly data: Buffer | string;
  /** Default 0o644. */
  readonly mode?: number;
  /** Default the time of writing. */
  readonly mtime?: Date;
}

export class TarNameError extends Error {
  override name = 'TarNameError';
}

const BLOCK = 512;

/** An octal number field of `width` bytes: digits, then NUL. */
function octal(value: number, width: number): string {
  const digits = Math.floor(value).toString(8);
  if (digits.length > width - 1) throw new RangeError(`${value} does not fit a ${width}-byte tar field`);
  return `${digits.padStart(width - 1, '0')}\0`;
}

function header(file: TarFile, size: number, now: Date): Buffer {
  const name = Buffer.from(file.name, 'utf8');
  if (name.length === 0 || name.length > 100 || file.name.startsWith('/') || file.name.split('/').includes('..')) {
    throw new TarNameError(`tar entry name "${file.name}" must be a relative path of 1 to 100 bytes without ".."`);
  }
  const h = Buffer.alloc(BLOCK, 0);
  name.copy(h, 0);
  h.write(octal(file.mode ?? 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal((file.mtime ?? now).getTime() / 1000, 12), 136, 'ascii');
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  // The checksum is summed with its own field as eight spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The archive: each file's header and data padded to 512 bytes, then two zero blocks. */
export function tarArchive(files: readonly TarFile[], now: Date = new Date()): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const data = typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data;
    parts.push(header(f, data.length, now), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}
