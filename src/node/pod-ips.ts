// The node's pod addresses: one per pod (by uid) from the node's podCIDR. Addresses of pods the node finds bound to
// it at start are reserved first, so a restarted node never hands a live pod's address to another.
import { IpPool } from '../model/ip-pool.ts';

export class PodIps {
  private readonly pool: IpPool;
  private readonly owners = new Map<string, string>();

  constructor(readonly cidr: string) {
    this.pool = new IpPool(cidr);
  }

  /** Takes `ip` for pod `uid` when it is in the CIDR and free (an address found in a pod's status at start). */
  reserve(uid: string, ip: string | undefined): boolean {
    if (this.owners.has(uid)) return this.owners.get(uid) === ip;
    if (!ip || !this.pool.reserve(ip)) return false;
    this.owners.set(uid, ip);
    return true;
  }

  /** The pod's address: the one it holds, else `preferred` when free, else a new one. Throws when none is left. */
  allocate(uid: string, preferred?: string): string {
    const held = this.owners.get(uid);
    if (held) return held;
    const ip = this.pool.allocate(preferred);
    this.owners.set(uid, ip);
    return ip;
  }

  /** Gives the address back; call only once the pod's processes are gone. */
  release(uid: string): void {
    const ip = this.owners.get(uid);
    if (!ip) return;
    this.owners.delete(uid);
    this.pool.release(ip);
  }

  ipOf(uid: string): string | undefined {
    return this.owners.get(uid);
  }
}
