/**
 * An esbuild plugin that hands every Node builtin to the bundle as `process.getBuiltinModule(...)`, the
 * CommonJS object, instead of leaving an ES `import ... from 'node:x'`. An ES import of a builtin builds its
 * module namespace, which reads every export once, lazy getters included: `node:http`'s WebSocket and
 * MessageEvent getters load Node's own copy of undici (about 12 MiB resident, measured with Node 24), and
 * `node:tls`, `node:util` and `node:process` cost another few MiB that their CommonJS objects do not.
 */

import { isBuiltin } from 'node:module';
import type { Plugin } from 'esbuild';

const NAMESPACE = 'hostnic-builtin';

/** `fs` and `node:fs` both name the builtin `node:fs`; `node:test` exists only with its prefix. */
export function builtinSpecifier(path: string): string | undefined {
  if (!isBuiltin(path)) return undefined;
  return path.startsWith('node:') ? path : `node:${path}`;
}

export function builtinModulesPlugin(): Plugin {
  return {
    name: 'builtin-modules',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)?$/ }, (args) => {
        const specifier = builtinSpecifier(args.path);
        return specifier === undefined ? undefined : { path: specifier, namespace: NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}
