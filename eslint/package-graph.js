/**
 * The package graph of docs/architecture.md (who may import whom), as ESLint configuration: one
 * `no-restricted-imports` block per package, and a rule that no file reaches into another package by a
 * relative path. Both keep every dependency declared by package name, which is what turbo's hashes follow.
 */
import path from 'node:path';

const LIBRARIES = ['iaas-client', 'ipam', 'netlink', 'protocol'];
const APPS = ['cni-plugin', 'agent', 'controller'];
const PRIVATE = ['runtime', 'sandbox', 'e2e', 'release'];
const ALL = [...LIBRARIES, ...APPS, ...PRIVATE];

/** What each package may import (@hostnic/<name>); anything else is refused. */
export const ALLOWED_IMPORTS = {
  'iaas-client': [],
  ipam: [],
  netlink: [],
  protocol: [],
  runtime: [],
  // The release checks pack and run the libraries from outside the workspace; they import none of them.
  release: [],
  'cni-plugin': ['protocol', 'netlink'],
  agent: [...LIBRARIES, 'runtime'],
  controller: ['iaas-client', 'ipam', 'runtime'],
  sandbox: LIBRARIES,
  e2e: ALL.filter((p) => p !== 'e2e'),
};

/** Tests and benches of the apps may also use the sandbox's fakes (a devDependency). */
const APP_TEST_EXTRA = ['sandbox'];

function why(from, to) {
  if (APPS.includes(to)) return `@hostnic/${to} is an app: nothing imports an app (run it as a process from @hostnic/e2e).`;
  const allowed = ALLOWED_IMPORTS[from].map((p) => `@hostnic/${p}`).join(', ');
  return allowed === '' ? `@hostnic/${from} imports no other @hostnic package.` : `@hostnic/${from} may import only ${allowed}.`;
}

function restrictions(from, allowed) {
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  // `@hostnic/<to>` and its subpaths.
  const specifiers = (to) => `^@hostnic/${escape(to)}(/.*)?$`;
  return {
    'no-restricted-imports': [
      'error',
      {
        // A package may import itself by name (its own subpath exports).
        patterns: ALL.filter((p) => p !== from && !allowed.includes(p)).map((to) => ({
          regex: specifiers(to),
          message: why(from, to),
        })),
      },
    ],
  };
}

/** The repository's packages/ directory. */
const PACKAGES = path.join(import.meta.dirname, '..', 'packages');

/** packages/<name> of a file, or undefined outside packages/. */
function packageOf(file) {
  const rel = path.relative(PACKAGES, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep)[0];
}

const noRelativeCrossPackageImport = {
  meta: {
    type: 'problem',
    docs: { description: 'import another package by its name, never by a relative path' },
    schema: [],
    messages: { crossing: "'{{source}}' reaches into packages/{{target}} by a relative path: import @hostnic/{{target}} instead (and declare the dependency)." },
  },
  create(context) {
    const file = context.filename;
    const own = packageOf(file);
    function check(node) {
      const source = node.source;
      if (source === null || source === undefined || source.type !== 'Literal' || typeof source.value !== 'string') return;
      if (!source.value.startsWith('.')) return;
      const target = packageOf(path.resolve(path.dirname(file), source.value));
      if (target !== undefined && target !== own) context.report({ node: source, messageId: 'crossing', data: { source: source.value, target } });
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export const packageBoundariesPlugin = { rules: { 'no-relative-cross-package-import': noRelativeCrossPackageImport } };

/** The configuration blocks: the relative-path rule everywhere, the graph per package. */
export function packageGraphConfig() {
  const blocks = [
    {
      files: ['**/*.ts', '**/*.mjs', '**/*.js'],
      plugins: { hostnic: packageBoundariesPlugin },
      rules: { 'hostnic/no-relative-cross-package-import': 'error' },
    },
  ];
  for (const [name, allowed] of Object.entries(ALLOWED_IMPORTS)) {
    blocks.push({ files: [`packages/${name}/**/*.{ts,mjs,js}`], rules: restrictions(name, allowed) });
    if (APPS.includes(name)) {
      blocks.push({ files: [`packages/${name}/{test,bench}/**/*.{ts,mjs,js}`], rules: restrictions(name, [...allowed, ...APP_TEST_EXTRA]) });
    }
  }
  return blocks;
}
