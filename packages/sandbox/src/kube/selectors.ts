import { getObject, getPath, isJsonObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { badRequest } from './status.ts';
import { isLabelValue, isQualifiedName } from './validation.ts';

export type LabelRequirement =
  | { readonly key: string; readonly op: 'exists' | '!exists' }
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'gt' | 'lt'; readonly value: number };

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** Splits on commas that are not inside a parenthesised value set. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function checkKey(key: string, term: string): string {
  if (!isQualifiedName(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${term}"`);
  return key;
}

function checkValue(value: string, term: string): string {
  if (!isLabelValue(value)) throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${term}"`);
  return value;
}

const SET_TERM = /^(\S+)\s+(in|notin)\s*\((.*)\)$/;
const COMPARE_TERM = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/;

/** The label selector grammar of apimachinery: =, ==, !=, in, notin, key, !key, > and <. */
export function parseLabelSelector(text: string | undefined): LabelRequirement[] {
  if (text === undefined || text.trim() === '') return [];
  return splitTopLevel(text).map((raw): LabelRequirement => {
    const term = raw.trim();
    if (term === '') throw badRequest(`unable to parse requirement: empty term in "${text}"`);
    if (term.startsWith('!')) return { key: checkKey(term.slice(1).trim(), term), op: '!exists' };
    const set = SET_TERM.exec(term);
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => checkValue(v.trim(), term));
      return { key: checkKey(set[1] ?? '', term), op: set[2] === 'in' ? 'in' : 'notin', values };
    }
    const cmp = COMPARE_TERM.exec(term);
    if (cmp) {
      const key = checkKey(cmp[1] ?? '', term);
      const operator = cmp[2];
      const value = (cmp[3] ?? '').trim();
      if (operator === '>' || operator === '<') {
        const n = Number(value);
        if (value === '' || !Number.isInteger(n)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in "${term}"`);
        return { key, op: operator === '>' ? 'gt' : 'lt', value: n };
      }
      return { key, op: operator === '!=' ? 'notin' : 'in', values: [checkValue(value, term)] };
    }
    if (/\s/.test(term)) throw badRequest(`unable to parse requirement: found '${term}', expected: '=', '!=', '==', 'in', notin'`);
    return { key: checkKey(term, term), op: 'exists' };
  });
}

export function labelsOf(obj: JsonObject): Record<string, string> {
  const labels = getObject(obj, 'metadata')?.['labels'];
  const out: Record<string, string> = {};
  if (isJsonObject(labels)) {
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export function matchesLabels(requirements: readonly LabelRequirement[], obj: JsonObject): boolean {
  if (requirements.length === 0) return true;
  const labels = labelsOf(obj);
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case 'in': return value !== undefined && r.values.includes(value);
      // `!=` and notin also select objects that lack the label, as in apimachinery.
      case 'notin': return value === undefined || !r.values.includes(value);
      case 'gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > r.value;
      case 'lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < r.value;
    }
    return false;
  });
}

/** Splits on commas not escaped with a backslash, then undoes the escapes of each term's value. */
function splitFieldTerms(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + (text[i + 1] ?? '');
      i++;
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

const ALWAYS_SELECTABLE = ['metadata.name', 'metadata.namespace'];

/** Field selectors with =, == and !=, restricted to the fields the resource's registry supports. */
export function parseFieldSelector(text: string | undefined, supported: readonly string[]): FieldRequirement[] {
  if (text === undefined || text.trim() === '') return [];
  return splitFieldTerms(text).map((raw): FieldRequirement => {
    const term = raw.trim();
    const match = /^([^=!]+?)\s*(==|=|!=)(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid field selector: '${term}': expected one of '=', '==', '!='`);
    const field = (match[1] ?? '').trim();
    if (!ALWAYS_SELECTABLE.includes(field) && !supported.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, op: match[2] === '!=' ? '!=' : '=', value: unescapeFieldValue(match[3] ?? '') };
  });
}

function fieldValue(obj: JsonObject, field: string): string {
  const value = getPath(obj, field);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return '';
}

export function matchesFields(requirements: readonly FieldRequirement[], obj: JsonObject): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}

export interface Selection {
  readonly namespace: string | undefined;
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}

export function selects(selection: Selection, obj: JsonObject): boolean {
  if (selection.namespace !== undefined && getObject(obj, 'metadata')?.['namespace'] !== selection.namespace) {
    return false;
  }
  return matchesLabels(selection.labels, obj) && matchesFields(selection.fields, obj);
}

export function isEmptySelection(selection: Selection): boolean {
  return selection.labels.length === 0 && selection.fields.length === 0;
}
