// Addresses handed out from an IPv4 CIDR: pod IPs from a node's podCIDR, cluster IPs from 127.2.0.0/16.
// A released address goes to the back of the line, so it is the last to be handed out again: a client still
// talking to the old owner meets a refused connection, not a stranger.

const isIpv4 = (ip: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((p) => Number(p) <= 255);
const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function parseCidr(cidr: string): { first: number; size: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIpv4(m[1]) || Number(m[2]) > 30) throw new Error(`invalid CIDR "${cidr}"`);
  const size = 2 ** (32 - Number(m[2]));
  return { first: toInt(m[1]) - (toInt(m[1]) % size), size };
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a), y = parseCidr(b);
  return x.first < y.first + y.size && y.first < x.first + x.size;
}

export const inCidr = (ip: string, cidr: string) => {
  const { first, size } = parseCidr(cidr);
  if (!isIpv4(ip)) return false;
  const n = toInt(ip);
  return n >= first && n < first + size;
};

export class IpPool {
  private readonly first: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  /** Released addresses, oldest first (a Set keeps insertion order); handed out only after every never-used one. */
  private readonly released = new Set<number>();
  private next = 1;

  /** Network and broadcast addresses are never handed out. */
  constructor(readonly cidr: string) {
    ({ first: this.first, size: this.size } = parseCidr(cidr));
  }

  /** Addresses that can be handed out at all (the CIDR without its network and broadcast addresses). */
  get capacity(): number {
    return this.size - 2;
  }

  get free(): number {
    return this.capacity - this.used.size;
  }

  /** The i-th usable address (0-based, modulo capacity): where a hash-derived preference lands. */
  addressAt(i: number): string {
    return toIp(this.first + 1 + (((i % this.capacity) + this.capacity) % this.capacity));
  }

  /** Marks an address as taken (one found in the store at start-up). False when it is outside the pool or taken. */
  reserve(ip: string): boolean {
    if (!this.usable(ip)) return false;
    const n = toInt(ip);
    if (this.used.has(n)) return false;
    this.used.add(n);
    this.released.delete(n);
    return true;
  }

  /** The preferred address when it is free, else a never-used one, else the longest-released one. Throws when full. */
  allocate(preferred?: string): string {
    if (preferred && this.reserve(preferred)) return preferred;
    for (; this.next < this.size - 1; this.next++) {
      const n = this.first + this.next;
      if (!this.used.has(n) && !this.released.has(n)) {
        this.used.add(n);
        this.next++;
        return toIp(n);
      }
    }
    for (const n of this.released) {
      this.released.delete(n);
      if (!this.used.has(n)) {
        this.used.add(n);
        return toIp(n);
      }
    }
    throw new Error(`no free address left in ${this.cidr}`);
  }

  release(ip: string): void {
    if (!isIpv4(ip)) return;
    const n = toInt(ip);
    if (!this.used.delete(n)) return;
    this.released.add(n);
  }

  has(ip: string): boolean {
    return isIpv4(ip) && this.used.has(toInt(ip));
  }

  /** Inside the CIDR and neither its network nor its broadcast address. */
  usable(ip: string): boolean {
    if (!isIpv4(ip)) return false;
    const n = toInt(ip);
    return n > this.first && n < this.first + this.size - 1;
  }
}
