// Node ports handed out from a range (30000-32767 by default). Like IpPool, a released port goes to the back of
// the line so a client of the deleted Service meets a closed port rather than someone else's.

export class PortPool {
  private readonly used = new Set<number>();
  /** Released ports, oldest first; handed out only after every never-used one. */
  private readonly released = new Set<number>();
  private next: number;

  constructor(readonly min: number, readonly max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new Error(`invalid port range ${min}-${max}`);
    }
    this.next = min;
  }

  /** As Kubernetes prints it in messages. */
  get range(): string {
    return `${this.min}-${this.max}`;
  }

  get capacity(): number {
    return this.max - this.min + 1;
  }

  get free(): number {
    return this.capacity - this.used.size;
  }

  /** The i-th port of the range (modulo its size): where a hash-derived preference lands. */
  portAt(i: number): number {
    return this.min + (((i % this.capacity) + this.capacity) % this.capacity);
  }

  inRange(port: number): boolean {
    return Number.isInteger(port) && port >= this.min && port <= this.max;
  }

  /** False when the port is outside the range or taken. */
  reserve(port: number): boolean {
    if (!this.inRange(port) || this.used.has(port)) return false;
    this.used.add(port);
    this.released.delete(port);
    return true;
  }

  /** The preferred port when free, else a never-used one, else the longest-released one. Throws when full. */
  allocate(preferred?: number): number {
    if (preferred !== undefined && this.reserve(preferred)) return preferred;
    for (; this.next <= this.max; this.next++) {
      const p = this.next;
      if (!this.used.has(p) && !this.released.has(p)) {
        this.used.add(p);
        this.next++;
        return p;
      }
    }
    for (const p of this.released) {
      this.released.delete(p);
      if (!this.used.has(p)) {
        this.used.add(p);
        return p;
      }
    }
    throw new Error(`range is full: no free node port left in ${this.range}`);
  }

  release(port: number): void {
    if (this.used.delete(port)) this.released.add(port);
  }

  has(port: number): boolean {
    return this.used.has(port);
  }
}
