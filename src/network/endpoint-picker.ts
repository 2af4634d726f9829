// Which backends a Service port has, and in which order a connection tries them: the ready addresses of its
// Endpoints with the matching port, rotated round-robin per Service port, as kube-proxy's userspace mode did.
import type { KubeObject } from '../model/object.ts';

export interface Backend { ip: string; port: number }

/**
 * Ready backends of one Service port. A subset's port matches when its name equals the Service port's name;
 * an unnamed Service port also takes a subset's only port. notReadyAddresses are never used.
 */
export function readyBackends(endpoints: KubeObject | undefined, portName: string | undefined, protocol = 'TCP'): Backend[] {
  const out: Backend[] = [];
  const subsets: any[] = Array.isArray(endpoints?.subsets) ? (endpoints!.subsets as any[]) : [];
  for (const subset of subsets) {
    const ports: any[] = (subset.ports ?? []).filter((p: any) => (p.protocol ?? 'TCP') === protocol);
    const port = ports.find((p) => (p.name ?? '') === (portName ?? '')) ?? (!portName && ports.length === 1 ? ports[0] : undefined);
    if (!port) continue;
    for (const a of subset.addresses ?? []) if (a?.ip) out.push({ ip: a.ip, port: port.port });
  }
  return out;
}

/** Round-robin per key: each call starts one further along, and lists the rest after it to fall back on. */
export class EndpointPicker {
  private readonly next = new Map<string, number>();

  order(key: string, backends: Backend[]): Backend[] {
    if (backends.length < 2) return backends;
    const n = this.next.get(key) ?? 0;
    this.next.set(key, (n + 1) % backends.length);
    const start = n % backends.length;
    return [...backends.slice(start), ...backends.slice(0, start)];
  }

  /** Drops the counters of keys not in `live` (Service ports that are gone). */
  retain(live: Set<string>): void {
    for (const k of this.next.keys()) if (!live.has(k)) this.next.delete(k);
  }
}
