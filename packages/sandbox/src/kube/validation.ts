import { getObject, getString, isJsonObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { structuralErrors } from './schema.ts';
import type { StatusCause } from './status.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function isQualifiedName(value: string): boolean {
  const slash = value.indexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
  const name = slash >= 0 ? value.slice(slash + 1) : value;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function invalidValue(field: string, value: string, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${why}`, field };
}

export function required(field: string, why = ''): StatusCause {
  return { reason: 'FieldValueRequired', message: `Required value${why ? `: ${why}` : ''}`, field };
}

/** RBAC names (`system:controller:x`) only have to be usable as one URL path segment. */
function pathSegmentProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return `may not be '${name}'`;
  for (const c of ['/', '%']) if (name.includes(c)) return `may not contain '${c}'`;
  return undefined;
}

/** Checks shared by every kind: the name, labels and the shape of finalizers. */
export function validateObjectMeta(obj: JsonObject, nameRule: 'subdomain' | 'label' | 'path-segment'): StatusCause[] {
  const causes: StatusCause[] = [];
  const meta = getObject(obj, 'metadata') ?? {};
  const name = getString(meta, 'name') ?? '';
  if (name === '') {
    causes.push(required('metadata.name', 'name or generateName is required'));
  } else if (nameRule === 'path-segment') {
    const problem = pathSegmentProblem(name);
    if (problem) causes.push(invalidValue('metadata.name', name, problem));
  } else if (nameRule === 'label' ? !isDnsLabel(name) : !isDnsSubdomain(name)) {
    causes.push(invalidValue('metadata.name', name, nameRule === 'label' ? LABEL_MESSAGE : SUBDOMAIN_MESSAGE));
  }
  const labels = meta['labels'];
  if (labels !== undefined && labels !== null) {
    if (!isJsonObject(labels)) {
      causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a map of strings', field: 'metadata.labels' });
    } else {
      for (const [key, value] of Object.entries(labels)) {
        if (!isQualifiedName(key)) causes.push(invalidValue('metadata.labels', key, 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'));
        if (typeof value !== 'string' || !isLabelValue(value)) {
          causes.push(invalidValue('metadata.labels', String(value), 'a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'));
        }
      }
    }
  }
  const annotations = meta['annotations'];
  if (annotations !== undefined && annotations !== null && !isJsonObject(annotations)) {
    causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a map of strings', field: 'metadata.annotations' });
  }
  const finalizers = meta['finalizers'];
  if (finalizers !== undefined && finalizers !== null) {
    if (!Array.isArray(finalizers)) {
      causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a list of strings', field: 'metadata.finalizers' });
    } else {
      finalizers.forEach((f, i) => {
        if (typeof f !== 'string' || !isQualifiedName(f)) {
          causes.push(invalidValue(`metadata.finalizers[${i}]`, String(f), 'must be a qualified name'));
        }
      });
    }
  }
  return causes;
}

/** The pod checks a client is most likely to trip over; the rest of PodSpec validation is not modelled. */
export function validatePod(obj: JsonObject): StatusCause[] {
  const spec = getObject(obj, 'spec');
  const containers = spec?.['containers'];
  if (!Array.isArray(containers) || containers.length === 0) return [required('spec.containers')];
  const causes: StatusCause[] = [];
  containers.forEach((c, i) => {
    const container = isJsonObject(c) ? c : {};
    const name = getString(container, 'name') ?? '';
    if (name === '') causes.push(required(`spec.containers[${i}].name`));
    else if (!isDnsLabel(name)) causes.push(invalidValue(`spec.containers[${i}].name`, name, LABEL_MESSAGE));
    if ((getString(container, 'image') ?? '') === '') causes.push(required(`spec.containers[${i}].image`));
  });
  return causes;
}

/** What a CustomResourceDefinition must carry for the fake to serve it. */
export function validateCrd(obj: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = getObject(obj, 'spec') ?? {};
  const names = getObject(spec, 'names') ?? {};
  const group = getString(spec, 'group') ?? '';
  const plural = getString(names, 'plural') ?? '';
  if (group === '') causes.push(required('spec.group'));
  else if (!group.includes('.') || !isDnsSubdomain(group)) causes.push(invalidValue('spec.group', group, 'should be a domain with at least one dot'));
  if (plural === '') causes.push(required('spec.names.plural'));
  else if (!isDnsLabel(plural)) causes.push(invalidValue('spec.names.plural', plural, LABEL_MESSAGE));
  if ((getString(names, 'kind') ?? '') === '') causes.push(required('spec.names.kind'));
  const scope = getString(spec, 'scope');
  if (scope !== 'Cluster' && scope !== 'Namespaced') {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(scope ?? '')}: supported values: "Cluster", "Namespaced"`, field: 'spec.scope' });
  }
  const versions = spec['versions'];
  if (!Array.isArray(versions) || versions.length === 0) {
    causes.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  } else {
    const storage = versions.filter((v) => isJsonObject(v) && v['storage'] === true);
    if (storage.length !== 1) {
      causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: must have exactly one version marked as storage version', field: 'spec.versions' });
    }
    versions.forEach((v, i) => {
      const name = isJsonObject(v) ? getString(v, 'name') : undefined;
      if (!name || !isDnsLabel(name)) causes.push(required(`spec.versions[${i}].name`));
      // A version without a schema is served as it always was here; one with a schema must be structural.
      const schema = isJsonObject(v) ? getObject(v, 'schema')?.['openAPIV3Schema'] : undefined;
      if (schema !== undefined && schema !== null) causes.push(...structuralErrors(schema, `spec.versions[${i}].schema.openAPIV3Schema`));
    });
  }
  const name = getString(getObject(obj, 'metadata'), 'name') ?? '';
  if (plural !== '' && group !== '' && name !== `${plural}.${group}`) {
    causes.push(invalidValue('metadata.name', name, `must be spec.names.plural+"."+spec.group`));
  }
  return causes;
}
