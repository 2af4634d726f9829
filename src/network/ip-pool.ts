// Addresses handed out from an IPv4 CIDR: pod IPs from a node's podCIDR, cluster IPs from 127.2.0.0/16.
// A released address goes to the back of the line, so it is the last to be handed out again: a client still
// talking to the old owner meets a refused connection, not a stranger.

const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function parseCidr(cidr: string): { first: number; size: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m[1].split('.').some((p) => Number(p) > 255) || Number(m[2]) > 30) throw new Error(`invalid CIDR "${cidr}"`);
  const size = 2 ** (32 - Number(m[2]));
  return { first: toInt(m[1]) - (toInt(m[1]) % size), size };
}

export const inCidr = (ip: string, cidr: string) => {
  const { first, size } = parseCidr(cidr);
  const n = toInt(ip);
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && n >= first && n < first + size;
};

export class IpPool {
  private readonly first: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  /** Released addresses, oldest first; they are handed out only after every never-used one. */
  private readonly released: number[] = [];
  private next = 1;

  /** Network and broadcast addresses are never handed out. */
  constructor(readonly cidr: string) {
    ({ first: this.first, size: this.size } = parseCidr(cidr));
  }

  get free(): number {
    return this.size - 2 - this.used.size;
  }

  /** Marks an address as taken (one found in the store at start-up). False when it is outside the pool or taken. */
  reserve(ip: string): boolean {
    const n = toInt(ip);
    if (!inCidr(ip, this.cidr) || n === this.first || n === this.first + this.size - 1 || this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  /** The preferred address when it is free, else a never-used one, else the longest-released one. Throws when full. */
  allocate(preferred?: string): string {
    if (preferred && this.reserve(preferred)) return preferred;
    for (; this.next < this.size - 1; this.next++) {
      const n = this.first + this.next;
      if (!this.used.has(n) && !this.released.includes(n)) {
        this.used.add(n);
        this.next++;
        return toIp(n);
      }
    }
    while (this.released.length) {
      const n = this.released.shift()!;
      if (!this.used.has(n)) {
        this.used.add(n);
        return toIp(n);
      }
    }
    throw new Error(`no free address left in ${this.cidr}`);
  }

  release(ip: string): void {
    const n = toInt(ip);
    if (!this.used.delete(n)) return;
    this.released.push(n);
  }

  has(ip: string): boolean {
    return this.used.has(toInt(ip));
  }
}
