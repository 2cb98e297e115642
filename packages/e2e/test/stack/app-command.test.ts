import { describe, expect, it } from 'vitest';
import { BundleNotBuiltError, REPO, appCommand, bundlePath, checkBundle, nodeOptionsFor, run } from '../../src/stack/index.ts';

describe('the stack runs the apps from their sources or their bundles', () => {
  for (const app of ['agent', 'controller'] as const) {
    it(`${app}: the bundle answers --version with the version the sources give`, async () => {
      const fromSource = await run([...appCommand(app, 'source'), '--version'], process.env, '', REPO);
      const fromBundle = await run([...appCommand(app, 'bundle'), '--version'], process.env, '', REPO);
      expect(fromSource.code, fromSource.stderr).toBe(0);
      expect(fromBundle.code, fromBundle.stderr).toBe(0);
      // The revision may differ (a bundle replayed from turbo's cache keeps its own); the version may not.
      const version = (out: string): string => out.trim().split(' ')[0] ?? '';
      expect(version(fromBundle.stdout)).toBe(version(fromSource.stdout));
      expect(appCommand(app, 'bundle')).toContain(bundlePath(app));
      expect(appCommand(app, 'bundle')).not.toContain('--conditions=@hostnic/source');
    }, 60_000);
  }

  it('names the build command when a bundle is missing', () => {
    expect(checkBundle('agent')).toBe(bundlePath('agent'));
    expect(() => checkBundle('agent', '/nonexistent/hostnic-agent.mjs')).toThrow(BundleNotBuiltError);
    expect(() => checkBundle('agent', '/nonexistent/hostnic-agent.mjs')).toThrow(/npx turbo run build/);
  });

  it('gives a bundle the deployed NODE_OPTIONS whole and TypeScript sources all but --jitless, with which Node cannot strip types', async () => {
    const deployed = '--max-semi-space-size=1 --jitless';
    expect(nodeOptionsFor(appCommand('agent', 'bundle'), deployed)).toBe(deployed);
    expect(nodeOptionsFor(appCommand('agent', 'source'), deployed)).toBe('--max-semi-space-size=1');
    expect(nodeOptionsFor(appCommand('agent', 'source'), undefined)).toBeUndefined();
    // A preloaded .ts (the bench's stall probe) needs type stripping as well.
    expect(nodeOptionsFor(appCommand('agent', 'bundle'), `${deployed} --import=/x/stall-probe.ts`)).toBe('--max-semi-space-size=1 --import=/x/stall-probe.ts');
    // Why: the sources fail to load under --jitless, the bundle runs.
    const env = (options: string): NodeJS.ProcessEnv => ({ ...process.env, NODE_OPTIONS: options });
    const fromSource = await run([...appCommand('agent', 'source'), '--version'], env(deployed), '', REPO);
    expect(fromSource.code).not.toBe(0);
    expect(fromSource.stderr).toContain('WebAssembly');
    const fromBundle = await run([...appCommand('agent', 'bundle'), '--version'], env(deployed), '', REPO);
    expect(fromBundle.code, fromBundle.stderr).toBe(0);
  }, 60_000);
});
