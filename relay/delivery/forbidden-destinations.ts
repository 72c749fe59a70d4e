// SSRF guard (case 7): addresses a recipient domain must never make the relay connect to. Pure.
import { BlockList, isIP } from 'node:net';

const forbidden = new BlockList();
const ipv4Ranges: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const ipv6Ranges: readonly [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated), reaches the embedded IPv4 address
  ['2002::', 16], // 6to4, tunnels to an embedded IPv4 address
  ['64:ff9b::', 96], // NAT64 of anything, including metadata
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
  ['fd00:ec2::254', 128], // AWS metadata over IPv6
];
for (const [network, prefix] of ipv4Ranges) forbidden.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of ipv6Ranges) forbidden.addSubnet(network, prefix, 'ipv6');

/** True for loopback, link-local, private, metadata and other non-public addresses, and non-IPs. */
export function isForbiddenDestination(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return forbidden.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1] !== undefined) return forbidden.check(mapped[1], 'ipv4');
    return forbidden.check(address, 'ipv6');
  }
  return true;
}
