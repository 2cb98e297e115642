/**
 * The bounded wait for an attached NIC's link. The original polled forever while holding the global lock, so a
 * failed attach wedged the node; here the wait ends with a typed error.
 */

import { findLinksByMac } from '@hostnic/netlink';
import type { Link } from '@hostnic/netlink';
import type { NicContext } from './context.ts';
import { NicTimeoutError, seconds } from './errors.ts';

/** The NIC's own link among those with its MAC: once enslaved the bridge carries the MAC too. */
export function nicLinkOf(links: readonly Link[]): Link | undefined {
  return links.find((l) => l.kind !== 'bridge');
}

export async function waitForLink(ctx: NicContext, nicId: string, vxnetId: string, signal?: AbortSignal): Promise<Link> {
  const deadline = ctx.clock.now() + ctx.linkTimeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    // findLinksByMac compares case-insensitively: the IaaS and the kernel may spell the MAC differently.
    const link = nicLinkOf(await findLinksByMac(nicId, { netns: ctx.netns }));
    if (link) return link;
    const remaining = deadline - ctx.clock.now();
    if (remaining <= 0) {
      throw new NicTimeoutError(
        'link',
        `link of NIC ${nicId} did not appear on ${ctx.instanceId} within ${seconds(ctx.linkTimeoutMs)}`,
        ctx.linkTimeoutMs,
        { nicId, vxnetId },
      );
    }
    await ctx.sleep(Math.min(ctx.linkPollMs, remaining), signal);
  }
}
