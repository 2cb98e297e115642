import type { QingCloudApi } from '../api.ts';
import type { FieldReader } from '../decode.ts';
import type { ParamInput } from '../params.ts';

/** QingCloud's documented maximum page size. */
export const PAGE_SIZE = 100;

export interface PageOptions {
  signal?: AbortSignal | undefined;
  /** Stop after this many items (default: all). */
  maxItems?: number;
}

/**
 * Lists every match of a Describe* action, page by page. Stops when a page comes back empty or the offset
 * reaches total_count, so a server that miscounts cannot make it loop forever.
 */
export async function listAll<T>(
  api: QingCloudApi,
  action: string,
  input: ParamInput,
  setKey: string,
  decodeItem: (item: FieldReader) => T,
  options: PageOptions = {},
): Promise<T[]> {
  const out: T[] = [];
  const max = options.maxItems ?? Number.POSITIVE_INFINITY;
  for (let offset = 0; out.length < max; ) {
    const limit = Math.min(PAGE_SIZE, max - out.length);
    const page = await api.call(action, { ...input, limit, offset }, {
      signal: options.signal,
      idempotent: true,
      decode: (r) => ({ items: r.list(setKey).map(decodeItem), total: r.optInt('total_count') }),
    });
    out.push(...page.items);
    offset += page.items.length;
    if (page.items.length === 0 || (page.total !== undefined && offset >= page.total)) break;
  }
  return out;
}
