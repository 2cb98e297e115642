/**
 * String order by UTF-16 code units, for sorting names (devices, files, keys) into a stable report.
 * localeCompare would do for ASCII names too, but its first call loads ICU's collation data: about 2.5 MiB of
 * the node binary resident for the rest of the process, measured on the agent.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
