/**
 * The bundle's tar writer, read back by the system's tar (GNU tar or busybox): names, sizes, modes and
 * contents come out as written, across the 512-byte padding boundaries; bad names are refused.
 */

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { TarNameError, tarArchive } from '../../src/diags/tar.ts';
import { bundleTarGz, collectBundle } from '../../src/diags/collect.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostnic-tar-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tarArchive', () => {
  const files = [
    { name: 'a.txt', data: 'hello\n' },
    { name: 'dir/exact.bin', data: Buffer.alloc(512, 7), mode: 0o600 },
    { name: 'dir/sub/empty', data: '' },
    { name: `long/${'n'.repeat(95)}`, data: 'x'.repeat(1000) },
  ];

  it('is read back by tar: every name, size and content, in order', async () => {
    const archive = tarArchive(files, new Date('2026-01-02T03:04:05Z'));
    expect(archive.length % 512).toBe(0);
    const file = join(dir, 'a.tar');
    await writeFile(file, archive);
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n')).toEqual(files.map((f) => f.name));
    const out = join(dir, 'out');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', file, '-C', out]);
    for (const f of files) {
      expect(Buffer.compare(await readFile(join(out, f.name)), Buffer.from(f.data)), f.name).toBe(0);
    }
    expect((await stat(join(out, 'dir/exact.bin'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(out, 'a.txt'))).mtime.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('refuses absolute, parent-relative, empty and over-long names', () => {
    for (const name of ['/etc/passwd', 'a/../b', '', 'x'.repeat(101)]) {
      expect(() => tarArchive([{ name, data: '' }]), name).toThrow(TarNameError);
    }
  });
});

describe('collectBundle', () => {
  it('records a failing part as <name>.error and keeps the others; the manifest says which', async () => {
    const bundle = await collectBundle([
      { name: 'ok.txt', collect: () => Promise.resolve('fine\n') },
      { name: 'kernel/bad.txt', collect: () => Promise.reject(new Error('ebtables: not found')) },
    ]);
    expect(bundle.files.map((f) => f.name)).toEqual(['manifest.json', 'ok.txt', 'kernel/bad.txt.error']);
    expect(bundle.outcomes).toEqual([
      { file: 'ok.txt', ok: true },
      { file: 'kernel/bad.txt.error', ok: false, error: 'ebtables: not found' },
    ]);
    const manifest = JSON.parse(String(bundle.files[0]?.data)) as { parts: unknown[] };
    expect(manifest.parts).toEqual(bundle.outcomes);
    const file = join(dir, 'b.tar.gz');
    await writeFile(file, bundleTarGz(bundle));
    expect(gunzipSync(await readFile(file)).length % 512).toBe(0);
    expect(execFileSync('tar', ['-xzOf', file, 'kernel/bad.txt.error'], { encoding: 'utf8' })).toBe('ebtables: not found\n');
  });
});
