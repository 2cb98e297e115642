import { IaasInputError } from '../errors.ts';

export function requireNonEmpty(action: string, field: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new IaasInputError(action, field, 'is required');
  return value;
}

export function requireList(action: string, field: string, values: readonly string[] | undefined): readonly string[] {
  if (values === undefined || values.length === 0) {
    throw new IaasInputError(action, field, 'must name at least one id');
  }
  values.forEach((v, i) => requireNonEmpty(action, `${field}[${i}]`, v));
  return values;
}

export function requireIntRange(action: string, field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IaasInputError(action, field, `must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
