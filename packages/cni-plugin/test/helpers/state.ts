/** Reads what the tests assert on, inside a named namespace (never the root one). */

import { inNetns, run, sh } from './sh.ts';

interface IpLink {
  ifname: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  linkinfo?: { info_kind?: string };
}

export async function links(ns: string): Promise<IpLink[]> {
  return JSON.parse(await sh(['ip', '-n', ns, '-j', '-d', 'link', 'show'])) as IpLink[];
}

export async function link(ns: string, name: string): Promise<IpLink | undefined> {
  return (await links(ns)).find((l) => l.ifname === name);
}

export async function addresses(ns: string, dev: string): Promise<string[]> {
  const out = JSON.parse(await sh(['ip', '-n', ns, '-j', '-4', 'addr', 'show', 'dev', dev])) as { addr_info: { local: string; prefixlen: number }[] }[];
  return out.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

export async function routeTo(ns: string, ip: string): Promise<string> {
  return (await sh(['ip', '-n', ns, 'route', 'show', 'table', 'main', `${ip}/32`])).trim();
}

export async function rulesTo(ns: string, ip: string): Promise<string[]> {
  return (await sh(['ip', '-n', ns, 'rule', 'show']))
    .split('\n')
    .filter((l) => l.includes(`to ${ip} `) || l.endsWith(`to ${ip}`) || l.includes(`to ${ip}\t`));
}

/** The node's ARP answers for `ip`, of either kind: proxy neighbour entries and (earlier releases') ebtables arpreply lines. */
export async function arpReplies(ns: string, ip: string): Promise<string[]> {
  const proxies = (await sh(['ip', '-n', ns, 'neigh', 'show', 'proxy', 'to', ip])).split('\n').filter((l) => l.trim() !== '');
  const out = await sh(inNetns(ns, ['ebtables', '-t', 'nat', '-L', 'PREROUTING']));
  return [...proxies, ...out.split('\n').filter((l) => l.includes(`--arp-ip-dst ${ip} `) || l.endsWith(`--arp-ip-dst ${ip}`))];
}

export async function iptablesNat(ns: string): Promise<string> {
  return sh(inNetns(ns, ['iptables', '-t', 'nat', '-S']));
}

export async function qdiscs(ns: string, dev: string): Promise<string> {
  const r = await run(inNetns(ns, ['tc', 'qdisc', 'show', 'dev', dev]));
  return r.code === 0 ? r.stdout : '';
}

export async function sysctl(ns: string, key: string): Promise<string> {
  return (await sh(inNetns(ns, ['cat', `/proc/sys/${key.replaceAll('.', '/')}`]))).trim();
}
