/** Plain-text tables and key/value blocks for the operator commands (kubectl's look: no borders). */

/** A column: its header and which side its cells line up on (numbers on the right). */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/**
 * Renders rows under headers, columns two spaces apart, trailing spaces trimmed, ending with a newline.
 * @param columns - the columns
 * @param rows - one cell text per column
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}

/**
 * Renders `key: value` lines with the values lined up, ending with a newline.
 * @param pairs - label and value; pairs with an undefined value are left out
 */
export function formatFields(pairs: readonly (readonly [string, string | undefined])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`.trimEnd()).join('\n') + '\n';
}

/**
 * `n thing` or `n things`.
 * @param n - the count
 * @param singular - the word for one
 * @param plural - the word for several (default: singular + s)
 */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}
