import { build } from 'esbuild';
import type { BuildResult } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

function bundle(entry: string): Promise<BuildResult<{ write: false; metafile: true }>> {
  return build({
    absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
}

// The CNI plugin is one esbuild bundle: the package must bundle without native addons or files read next
// to its sources.
describe('bundling', () => {
  it('bundles the package entry for node', async () => {
    const result = await bundle('src/index.ts');
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const out = result.outputFiles[0]?.text ?? '';
    expect(out.includes('"-batch"')).toBe(true);
    expect(/import\.meta\.url|__dirname|\.node["']/.test(out)).toBe(false);
    const inputs = Object.keys(result.metafile.inputs);
    // Only our own sources (node: builtins are external): nothing native, no dependencies.
    expect(inputs.filter((i) => !i.startsWith('src/'))).toEqual([]);
  });

  it('keeps the names entry free of node:crypto and child_process (the plugin loads it on every call)', async () => {
    const result = await bundle('src/names.ts');
    expect(Object.keys(result.metafile.inputs).sort()).toEqual(['src/errors.ts', 'src/names.ts']);
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imports).toEqual([]);
  });
});
