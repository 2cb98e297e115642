import type { QingCloudApi } from '../api.ts';
import type { Vxnet } from '../types.ts';
import { decodeVxnet } from './decoders.ts';
import { listAll, type PageOptions } from './paging.ts';
import { requireList } from './validate.ts';

export interface DescribeVxnetsFilter {
  vxnets?: readonly string[];
  /** 0 self-managed, 1 managed, 2 basic. The server hides type 2 unless asked for it. */
  vxnetType?: number;
  searchWord?: string;
}

export async function describeVxnets(
  api: QingCloudApi,
  filter: DescribeVxnetsFilter = {},
  options?: PageOptions,
): Promise<Vxnet[]> {
  return listAll(
    api,
    'DescribeVxnets',
    { vxnets: filter.vxnets, vxnet_type: filter.vxnetType, search_word: filter.searchWord, verbose: 0 },
    'vxnet_set',
    decodeVxnet,
    options,
  );
}

/**
 * Looks up vxnets by id. Ids the default query does not return are asked again with vxnet_type=2, as
 * hostnic always did; ids still missing are absent from the map (the caller reports them as not found).
 */
export async function describeVxnetsByIds(
  api: QingCloudApi,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, Vxnet>> {
  requireList('DescribeVxnets', 'vxnets', ids);
  const found = new Map<string, Vxnet>();
  for (const v of await describeVxnets(api, { vxnets: ids }, { signal })) found.set(v.vxnetId, v);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    for (const v of await describeVxnets(api, { vxnets: missing, vxnetType: 2 }, { signal })) found.set(v.vxnetId, v);
  }
  return found;
}
