import { BlockList, isIP } from 'node:net';

/**
 * Addresses a callback may not reach unless an allow-list entry names its host: everything that is
 * not a public unicast address. Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (RFC 6890), and the cloud metadata endpoints.
 */
const V4: [string, number, string][] = [
  ['169.254.169.254', 32, 'cloud metadata'],
  ['100.100.100.200', 32, 'cloud metadata'],
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignment'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved or broadcast'],
];

const V6: [string, number, string][] = [
  ['fd00:ec2::254', 128, 'cloud metadata'],
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'],
  ['::ffff:0:0:0', 96, 'IPv4-translated'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 32, 'Teredo'],
  ['2001:2::', 48, 'benchmarking'],
  ['2001:10::', 28, 'ORCHID'],
  ['2001:20::', 28, 'ORCHIDv2'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

/** The 6to4 prefix (2002:AABB:CCDD::/48) that embeds IPv4 address `a.b.c.d`. */
function sixToFour(v4: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return `2002:${hex(a, b)}:${hex(c, d)}::`;
}

interface Rule {
  label: string;
  list: BlockList;
}

/**
 * One rule per label. An IPv4 rule also matches the IPv4-mapped form (`::ffff:a.b.c.d`, which
 * BlockList checks against IPv4 rules itself); the NAT64 (`64:ff9b::a.b.c.d`) and 6to4 forms of
 * each IPv4 range are added as IPv6 rules.
 */
const RULES: Rule[] = (() => {
  const byLabel = new Map<string, BlockList>();
  const listOf = (label: string) => {
    let list = byLabel.get(label);
    if (!list) {
      list = new BlockList();
      byLabel.set(label, list);
    }
    return list;
  };
  for (const [net, prefix, label] of V4) {
    const list = listOf(label);
    list.addSubnet(net, prefix, 'ipv4');
    list.addSubnet(`64:ff9b::${net}`, 96 + prefix, 'ipv6');
    list.addSubnet(sixToFour(net), 16 + prefix, 'ipv6');
  }
  for (const [net, prefix, label] of V6) listOf(label).addSubnet(net, prefix, 'ipv6');
  return [...byLabel].map(([label, list]) => ({ label, list }));
})();

/** `[::1]` (a URL's hostname) or `::1` → `::1`; IPv4 as is; null for a name. */
export function ipOf(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) === 0 ? null : bare;
}

/** What kind of non-public address `ip` is ("loopback", "private", ...), or null for a public one. */
export function blockedAddress(ip: string): string | null {
  const family = isIP(ip);
  if (family === 0) throw new Error(`not an IP address: ${ip}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const rule of RULES) if (rule.list.check(ip, type)) return rule.label;
  return null;
}
