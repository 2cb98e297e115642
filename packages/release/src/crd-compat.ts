/**
 * Whether a new set of CRDs can replace the previous release's while controllers and agents of both releases
 * run side by side: nothing the old release reads or writes may disappear or change type, and nothing the
 * old release does not write may become required unless the API server fills it in (a `default`).
 */

/** The part of an OpenAPI v3 schema node the comparison looks at. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  default?: unknown;
}

export interface CrdVersion {
  name: string;
  served?: boolean;
  schema?: { openAPIV3Schema?: SchemaNode };
}

export interface Crd {
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: { versions: CrdVersion[] };
}

export interface CrdIncompatibility {
  /** `<crd name>/<version>` and a JSON-path-like location, `ippools.network.qingcloud.com/v1alpha1 .spec.cidr`. */
  readonly where: string;
  readonly problem: string;
}

function compareNodes(where: string, path: string, before: SchemaNode, after: SchemaNode, out: CrdIncompatibility[]): void {
  const at = (p: string): string => `${where} ${p === '' ? '.' : p}`;
  if (before.type !== undefined && after.type !== before.type) {
    out.push({ where: at(path), problem: `type changed from ${before.type} to ${after.type ?? 'unspecified'}` });
    return;
  }
  if (before.enum !== undefined) {
    const allowed = after.enum;
    const dropped = allowed === undefined ? [] : before.enum.filter((v) => !allowed.some((a) => JSON.stringify(a) === JSON.stringify(v)));
    if (dropped.length > 0) out.push({ where: at(path), problem: `enum no longer allows ${dropped.map((v) => JSON.stringify(v)).join(', ')}` });
  } else if (after.enum !== undefined) {
    out.push({ where: at(path), problem: 'an enum was added: values the previous release writes may be refused' });
  }
  const oldProps = before.properties ?? {};
  const newProps = after.properties ?? {};
  for (const [name, node] of Object.entries(oldProps)) {
    const next = newProps[name];
    if (next === undefined) out.push({ where: at(`${path}.${name}`), problem: 'field removed' });
    else compareNodes(where, `${path}.${name}`, node, next, out);
  }
  const wasRequired = new Set(before.required ?? []);
  for (const name of after.required ?? []) {
    if (wasRequired.has(name)) continue;
    if (newProps[name]?.default === undefined) {
      out.push({ where: at(`${path}.${name}`), problem: 'newly required without a default: objects of the previous release lack it' });
    }
  }
  if (before.items !== undefined && after.items !== undefined) compareNodes(where, `${path}[]`, before.items, after.items, out);
  if (typeof before.additionalProperties === 'object' && typeof after.additionalProperties === 'object') {
    compareNodes(where, `${path}{}`, before.additionalProperties, after.additionalProperties, out);
  }
}

/** Every way in which `after` breaks what `before` allowed; empty when the change is additive. */
export function compareCrds(before: readonly Crd[], after: readonly Crd[]): CrdIncompatibility[] {
  const out: CrdIncompatibility[] = [];
  const byName = new Map(after.map((c) => [c.metadata.name, c]));
  for (const old of before) {
    const next = byName.get(old.metadata.name);
    if (next === undefined) {
      out.push({ where: old.metadata.name, problem: 'CRD removed' });
      continue;
    }
    for (const v of old.spec.versions.filter((x) => x.served !== false)) {
      const where = `${old.metadata.name}/${v.name}`;
      const nv = next.spec.versions.find((x) => x.name === v.name);
      if (nv === undefined || nv.served === false) {
        out.push({ where, problem: 'version no longer served' });
        continue;
      }
      const before = v.schema?.openAPIV3Schema;
      const after = nv.schema?.openAPIV3Schema;
      if (before !== undefined && after !== undefined) compareNodes(where, '', before, after, out);
      else if (before === undefined && after !== undefined) out.push({ where, problem: 'a schema was added where there was none' });
    }
  }
  return out;
}

/** The CustomResourceDefinitions among parsed manifest documents. */
export function crdsOf(documents: readonly unknown[]): Crd[] {
  return documents.filter(
    (d): d is Crd => typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'CustomResourceDefinition',
  );
}
