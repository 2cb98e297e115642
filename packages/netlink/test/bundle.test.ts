import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The CNI plugin is one esbuild bundle: the package must bundle without native addons or files read next
// to its sources.
describe('bundling', () => {
  it('bundles the package entry for node', async () => {
    const result = await build({
      absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
      entryPoints: ['src/index.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const out = result.outputFiles[0]?.text ?? '';
    expect(out.includes('"-batch"')).toBe(true);
    expect(/import\.meta\.url|__dirname|\.node["']/.test(out)).toBe(false);
    const inputs = Object.keys(result.metafile.inputs);
    // Only our own sources (node: builtins are external): nothing native, no dependencies.
    expect(inputs.filter((i) => !i.startsWith('src/'))).toEqual([]);
  });
});
