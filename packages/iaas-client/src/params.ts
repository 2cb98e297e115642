/**
 * Flattening of typed action input into QingCloud's flat `name=value` parameters:
 * lists become `name.1`, `name.2`, ...; lists of objects become `name.1.field`; string lists inside such an
 * object are joined with `,`. Unset values are omitted; an empty string is kept (it is sent and signed).
 */
export type Scalar = string | number;
export type ItemValue = Scalar | readonly string[] | undefined | null;
export type ParamValue =
  | Scalar
  | undefined
  | null
  | readonly Scalar[]
  | readonly Readonly<Record<string, ItemValue>>[];

export type ParamInput = Readonly<Record<string, ParamValue>>;

function scalar(value: Scalar): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`parameter value ${value} is not a finite number`);
    return String(value);
  }
  return value;
}

export function flattenParams(input: ParamInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) {
      out[name] = scalar(value as Scalar);
      continue;
    }
    value.forEach((item: Scalar | Readonly<Record<string, ItemValue>>, i: number) => {
      const key = `${name}.${i + 1}`;
      if (typeof item === 'string' || typeof item === 'number') {
        out[key] = scalar(item);
        return;
      }
      for (const [field, fieldValue] of Object.entries(item)) {
        if (fieldValue === undefined || fieldValue === null) continue;
        out[`${key}.${field}`] = Array.isArray(fieldValue) ? fieldValue.join(',') : scalar(fieldValue as Scalar);
      }
    });
  }
  return out;
}
