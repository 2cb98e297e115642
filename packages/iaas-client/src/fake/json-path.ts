/**
 * Dotted paths into a JSON value for response tampering: `nic_set.*.role`, `vxnet_set.0.router.dyn_ip_end`.
 * `*` stands for every element of an array (or every value of an object); numbers index arrays.
 */

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function children(node: Container, segment: string): { parent: Container; key: string }[] {
  if (segment === '*') return Object.keys(node).map((key) => ({ parent: node, key }));
  if (Array.isArray(node)) return /^\d+$/.test(segment) && Number(segment) < node.length ? [{ parent: node, key: segment }] : [];
  return Object.hasOwn(node, segment) ? [{ parent: node, key: segment }] : [];
}

/** Every (parent, key) the path names, optionally including a missing last key (for setting). */
function resolve(root: unknown, path: string, includeMissingLeaf: boolean): { parent: Container; key: string }[] {
  const segments = path.split('.');
  let nodes: unknown[] = [root];
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] ?? '';
    nodes = nodes.filter(isContainer).flatMap((node) =>
      children(node, segment).map(({ parent, key }) => (parent as Record<string, unknown>)[key]));
  }
  const last = segments[segments.length - 1] ?? '';
  return nodes.filter(isContainer).flatMap((node) => {
    const found = children(node, last);
    if (found.length === 0 && includeMissingLeaf && last !== '*' && !Array.isArray(node)) return [{ parent: node, key: last }];
    return found;
  });
}

/** Removes the field(s); array elements are removed, not left as holes. Returns how many went. */
export function omitAt(root: unknown, path: string): number {
  const targets = resolve(root, path, false);
  // Remove array elements from the highest index down so earlier removals do not shift later ones.
  targets.sort((a, b) => Number(b.key) - Number(a.key));
  for (const { parent, key } of targets) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  }
  return targets.length;
}

/** Sets the field(s) to `value`, creating a missing last key on objects. Returns how many were set. */
export function setAt(root: unknown, path: string, value: unknown): number {
  const targets = resolve(root, path, true);
  for (const { parent, key } of targets) {
    if (Array.isArray(parent)) parent[Number(key)] = structuredClone(value);
    else parent[key] = structuredClone(value);
  }
  return targets.length;
}
