// A pod's MAC address follows from its IPv4 address (Docker's scheme: 02:42 then the address's four bytes, a
// locally administered unicast address). The host keeps the address's neighbour entry (MAC learned by ARP) for up to
// ~30 s after its last use; a sandbox made anew with the same address (a pod whose sandbox was removed from outside,
// an address freed by one pod and given to the next) and a random MAC was unreachable from the host (probes,
// Services) until that entry went stale. With the same MAC, the entry stays true.

/** The pod's MAC for `ip`, or undefined for an address that is not IPv4 (its interface keeps a random one). */
export function podMac(ip: string): string | undefined {
  const bytes = ip.split('.').map(Number);
  if (bytes.length !== 4 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return undefined;
  return ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
