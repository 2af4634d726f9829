// Who holds which clusterIP and nodePort, and what one Service needs: the allocator's core, without I/O.
// `plan(svc)` claims what the Service's spec already names, allocates what it lacks, releases what it no longer
// names, and says what to write back and what to warn about. Warnings mirror Kubernetes' validation messages and
// the reasons of its ip/port repair controllers.
import type { KubeObject } from '../model/object.ts';
import { IpPool } from '../model/ip-pool.ts';
import { PortPool } from './port-pool.ts';
import { fnv32a } from '../model/hash.ts';

export interface AllocationWarning { reason: string; message: string }

export interface AllocationPlan {
  /** What to write into the spec; undefined when it already says everything. */
  patch?: { clusterIP?: string; nodePorts: Map<number, number> };
  warnings: AllocationWarning[];
  /** A value the spec names is held by another Service: worth another try when that one lets go. */
  blocked: boolean;
  /** Something was let go, which may unblock another Service. */
  released: boolean;
  /** Allocated by this plan: to hand back when writing the patch fails. */
  fresh: { ip?: string; ports: number[] };
}

interface Held { ip?: string; ports: Set<number> }

export const serviceKey = (svc: KubeObject) => `${svc.metadata.namespace || 'default'}/${svc.metadata.name}`;

const hasClusterIP = (spec: any) => spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
const hasNodePorts = (spec: any) => spec.type === 'NodePort' || spec.type === 'LoadBalancer';
/** LoadBalancer Services may opt out of automatic node ports, as in Kubernetes 1.24+. */
const allocatesNodePorts = (spec: any) => spec.type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false;

export class ServiceAllocations {
  readonly ips: IpPool;
  readonly ports: PortPool;
  private readonly ipOwner = new Map<string, string>();
  private readonly portOwner = new Map<number, string>();
  private readonly held = new Map<string, Held>();

  constructor(serviceCidr: string, nodePortRange: [number, number]) {
    this.ips = new IpPool(serviceCidr);
    this.ports = new PortPool(nodePortRange[0], nodePortRange[1]);
  }

  /** The address a Service prefers: derived from its namespace/name, so a re-created Service tends to get it back. */
  preferredIp(key: string): string {
    return this.ips.addressAt(fnv32a(key));
  }

  preferredPort(key: string, port: { name?: string; port?: number }): number {
    return this.ports.portAt(fnv32a(`${key}:${port.name || port.port}`));
  }

  /**
   * Keeps an address from Services (the cluster DNS's, as the Kubernetes API server keeps kube-dns's): a Service
   * naming it is refused as for one held by another Service. False when it is outside the range.
   */
  reserveFor(ip: string, holder: string): boolean {
    if (!this.ips.reserve(ip)) return false;
    this.ipOwner.set(ip, holder);
    return true;
  }

  /** At start-up: takes the values a stored Service names when they are valid and free, silently. */
  reserveExisting(svc: KubeObject): void {
    const key = serviceKey(svc);
    const spec = svc.spec ?? {};
    const held = this.heldBy(key);
    if (hasClusterIP(spec) && typeof spec.clusterIP === 'string' && !held.ip && this.ips.reserve(spec.clusterIP)) {
      held.ip = spec.clusterIP;
      this.ipOwner.set(spec.clusterIP, key);
    }
    if (!hasNodePorts(spec)) return;
    for (const p of spec.ports ?? []) {
      if (typeof p.nodePort === 'number' && this.ports.reserve(p.nodePort)) {
        held.ports.add(p.nodePort);
        this.portOwner.set(p.nodePort, key);
      }
    }
  }

  plan(svc: KubeObject): AllocationPlan {
    const key = serviceKey(svc);
    const spec = svc.spec ?? {};
    const held = this.heldBy(key);
    const out: AllocationPlan = { warnings: [], blocked: false, released: false, fresh: { ports: [] } };
    const nodePorts = new Map<number, number>();
    let clusterIP: string | undefined;

    // Cluster IP: none for headless and ExternalName Services; the named one when free; else a new one.
    const wanted = hasClusterIP(spec) && typeof spec.clusterIP === 'string' && spec.clusterIP !== '' ? spec.clusterIP : undefined;
    if (held.ip && held.ip !== wanted) out.released = this.dropIp(key, held) || out.released;
    if (wanted && held.ip !== wanted) {
      const owner = this.ipOwner.get(wanted);
      const invalid = `spec.clusterIPs: Invalid value: []string{"${wanted}"}: failed to allocate IP ${wanted}`;
      if (owner) {
        out.warnings.push({ reason: 'ClusterIPAlreadyAllocated', message: `${invalid}: provided IP is already allocated (to ${owner.includes('/') ? `Service ${owner}` : owner})` });
        out.blocked = true;
      } else if (!this.ips.reserve(wanted)) {
        out.warnings.push({
          reason: 'ClusterIPOutOfRange',
          message: `${invalid}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${this.ips.cidr}`,
        });
      } else this.takeIp(key, held, wanted);
    } else if (!wanted && hasClusterIP(spec)) {
      try {
        clusterIP = this.ips.allocate(this.preferredIp(key));
        this.takeIp(key, held, clusterIP);
        out.fresh.ip = clusterIP;
      } catch {
        out.warnings.push({ reason: 'ClusterIPNotAllocated', message: 'failed to allocate a serviceIP: range is full' });
      }
    }

    // Node ports: keep the named ones that are valid and free, let go of the rest, then fill in the missing ones.
    const ports: any[] = hasNodePorts(spec) ? (spec.ports ?? []) : [];
    const keep = new Set<number>();
    const named = new Set<string>();
    ports.forEach((p, i) => {
      if (p.nodePort === undefined) return;
      const n = p.nodePort;
      const field = `spec.ports[${i}].nodePort`;
      // One number may serve a TCP and a UDP port (DNS): a duplicate is the same number and protocol, as Kubernetes.
      const id = `${n}/${p.protocol ?? 'TCP'}`;
      const duplicate = named.has(id);
      named.add(id);
      if (duplicate) {
        out.warnings.push({ reason: 'PortAlreadyAllocated', message: `${field}: Duplicate value: ${n}` });
      } else if (held.ports.has(n)) {
        keep.add(n);
      } else if (this.portOwner.has(n)) {
        out.warnings.push({ reason: 'PortAlreadyAllocated', message: `${field}: Invalid value: ${n}: provided port is already allocated (to Service ${this.portOwner.get(n)})` });
        out.blocked = true;
      } else if (!this.ports.reserve(n)) {
        out.warnings.push({
          reason: 'PortOutOfRange',
          message: `${field}: Invalid value: ${n}: provided port is not in the valid range. The range of valid ports is ${this.ports.range}`,
        });
      } else {
        this.takePort(key, held, n);
        keep.add(n);
      }
    });
    for (const n of [...held.ports]) {
      if (keep.has(n)) continue;
      this.dropPort(key, held, n);
      out.released = true;
    }
    if (allocatesNodePorts(spec)) {
      ports.forEach((p, i) => {
        if (p.nodePort !== undefined) return;
        try {
          const n = this.ports.allocate(this.preferredPort(key, p));
          this.takePort(key, held, n);
          out.fresh.ports.push(n);
          nodePorts.set(i, n);
        } catch {
          out.warnings.push({ reason: 'PortNotAllocated', message: `spec.ports[${i}].nodePort: Internal error: failed to allocate a nodePort: range is full` });
        }
      });
    }

    if (clusterIP || nodePorts.size) out.patch = { clusterIP, nodePorts };
    if (!held.ip && !held.ports.size) this.held.delete(key);
    return out;
  }

  /** Hands back what a plan allocated when its write did not happen. */
  rollback(key: string, fresh: AllocationPlan['fresh']): void {
    const held = this.heldBy(key);
    if (fresh.ip && held.ip === fresh.ip) this.dropIp(key, held);
    for (const n of fresh.ports) this.dropPort(key, held, n);
    if (!held.ip && !held.ports.size) this.held.delete(key);
  }

  /** The Service is gone: everything it held goes back. True when it held anything. */
  forget(key: string): boolean {
    const held = this.held.get(key);
    if (!held) return false;
    this.dropIp(key, held);
    for (const n of [...held.ports]) this.dropPort(key, held, n);
    this.held.delete(key);
    return true;
  }

  private heldBy(key: string): Held {
    let h = this.held.get(key);
    if (!h) this.held.set(key, (h = { ports: new Set() }));
    return h;
  }

  private takeIp(key: string, held: Held, ip: string): void {
    held.ip = ip;
    this.ipOwner.set(ip, key);
  }

  private dropIp(key: string, held: Held): boolean {
    if (!held.ip) return false;
    if (this.ipOwner.get(held.ip) === key) {
      this.ipOwner.delete(held.ip);
      this.ips.release(held.ip);
    }
    held.ip = undefined;
    return true;
  }

  private takePort(key: string, held: Held, n: number): void {
    held.ports.add(n);
    this.portOwner.set(n, key);
  }

  private dropPort(key: string, held: Held, n: number): void {
    held.ports.delete(n);
    if (this.portOwner.get(n) === key) {
      this.portOwner.delete(n);
      this.ports.release(n);
    }
  }
}
