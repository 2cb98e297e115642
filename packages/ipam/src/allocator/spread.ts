/**
 * Light node affinity: where a node starts scanning a pool's blocks.
 *
 * If every node scanned the blocks from the first, concurrent allocations on different nodes would all write
 * the same block and all but one would lose the compare-and-swap. Starting at an offset
 * derived from the node name spreads nodes over the blocks; once a node's starting block is full it moves on
 * to the next, so no address is out of reach. Unlike Calico's block affinities this needs no extra objects
 * and no extra writes: an allocation still writes the handle and one block.
 *
 * An allocator also remembers, in memory, the block where each node last allocated in each pool and starts
 * there next time, so a node whose first blocks are full does not read them again on every allocation.
 *
 * @packageDocumentation
 */

/**
 * FNV-1a over the UTF-16 code units of a string: cheap, stable across processes and releases.
 * @param text - the text
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Where a node starts among `count` blocks.
 * @param node - the node name
 * @param count - how many blocks
 */
export function nodeOffset(node: string, count: number): number {
  return count <= 0 ? 0 : fnv1a(node) % count;
}


/** Where each node last allocated in each pool (in memory, per allocator; a hint, never a claim). */
export class StartHints {
  readonly #blocks = new Map<string, string>();

  /**
   * The block where `node` last allocated in `pool`.
   * @param pool - the pool name
   * @param node - the node name
   */
  get(pool: string, node: string): string | undefined {
    return this.#blocks.get(`${pool}\u0000${node}`);
  }

  /**
   * Remembers where `node` allocated in `pool`.
   * @param pool - the pool name
   * @param node - the node name
   * @param block - the block name
   */
  set(pool: string, node: string, block: string): void {
    this.#blocks.set(`${pool}\u0000${node}`, block);
  }
}
