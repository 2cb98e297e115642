/**
 * The support bundle's assembly: each part is collected on its own, and a part that fails becomes an
 * `<name>.error` file holding why, so that one missing tool or an agent that is down never costs the rest.
 */

import { gzipSync } from 'node:zlib';
import { errorText } from '@hostnic/runtime';
import { tarArchive } from './tar.ts';
import type { TarFile } from './tar.ts';

export interface DiagsPart {
  /** The file's path in the bundle, e.g. `kernel/routes.txt`. */
  readonly name: string;
  collect(): Promise<string | Buffer>;
}

export interface PartOutcome {
  readonly file: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface Bundle {
  readonly files: readonly TarFile[];
  /** One entry a part, in the order given; also in the bundle as `manifest.json`. */
  readonly outcomes: readonly PartOutcome[];
}

/** Collects every part at once; the bundle lists them in the order given, with manifest.json first. */
export async function collectBundle(parts: readonly DiagsPart[], now: Date = new Date()): Promise<Bundle> {
  const settled = await Promise.allSettled(parts.map((p) => p.collect()));
  const files: TarFile[] = [];
  const outcomes: PartOutcome[] = [];
  parts.forEach((part, i) => {
    const r = settled[i];
    if (r?.status === 'fulfilled') {
      files.push({ name: part.name, data: r.value, mtime: now });
      outcomes.push({ file: part.name, ok: true });
    } else {
      const error = errorText(r?.reason);
      files.push({ name: `${part.name}.error`, data: `${error}\n`, mtime: now });
      outcomes.push({ file: `${part.name}.error`, ok: false, error });
    }
  });
  const manifest: TarFile = { name: 'manifest.json', data: `${JSON.stringify({ created: now.toISOString(), parts: outcomes }, null, 2)}\n`, mtime: now };
  return { files: [manifest, ...files], outcomes };
}

/** The bundle as .tar.gz bytes. */
export function bundleTarGz(bundle: Bundle, now: Date = new Date()): Buffer {
  return gzipSync(tarArchive(bundle.files, now));
}
