// The proxy side of "out of service before SIGTERM" (model/proxied.ts): counts what a proxy relays per Service and
// the backends each relayed connection or request may still go to, and once nothing goes to an address the
// Service's current Endpoints no longer list, writes that generation under its annotation. The service proxy and
// the ingress each keep one, under annotations of their own; the node waits for both.
import type { KubeObject } from '../model/object.ts';
import type { Informer } from '../store/informer.ts';
import { StoreError, type Store } from '../store/store.ts';
import type { Backend } from './endpoint-picker.ts';

const backendKey = (b: Backend) => `${b.ip}:${b.port}`;

/** Every address:port the Endpoints send new connections to. */
function readyKeys(ep: KubeObject): Set<string> {
  const out = new Set<string>();
  for (const s of Array.isArray(ep.subsets) ? ep.subsets : []) {
    for (const a of s.addresses ?? []) for (const p of s.ports ?? []) out.add(backendKey({ ip: a.ip, port: p.port }));
  }
  return out;
}

/** One relayed connection, flow or request, until `end`. */
export interface Use {
  /** The backends it may go to now: its candidates, then the one it reached. */
  to(backends: Backend[]): void;
  end(): void;
}

export class DrainTracker {
  /** Open uses per Service (`namespace/name`). */
  private readonly inFlight = new Map<string, Set<{ backends: Set<string> }>>();
  private readonly due = new Set<string>();
  private scheduled?: NodeJS.Immediate;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly endpoints: Informer,
    /** The annotation this proxy writes (model/proxied.ts). */
    private readonly annotation: string,
    private readonly log: (m: string) => void,
  ) {
    const onEndpoints = (ep: KubeObject) => this.schedule(`${ep.metadata.namespace ?? 'default'}/${ep.metadata.name}`);
    endpoints.on({ add: onEndpoints, update: (_old, ep) => onEndpoints(ep) });
  }

  /** After the informer has started: what is already drained is said at once. */
  start(): void {
    for (const ep of this.endpoints.list()) this.schedule(`${ep.metadata.namespace ?? 'default'}/${ep.metadata.name}`);
  }

  begin(service: string, backends: Backend[]): Use {
    const use = { backends: new Set(backends.map(backendKey)) };
    if (!this.inFlight.has(service)) this.inFlight.set(service, new Set());
    this.inFlight.get(service)!.add(use);
    let ended = false;
    return {
      to: (b) => {
        if (ended) return;
        use.backends = new Set(b.map(backendKey));
        this.schedule(service);
      },
      end: () => {
        if (ended) return;
        ended = true;
        const set = this.inFlight.get(service);
        set?.delete(use);
        if (!set?.size) this.inFlight.delete(service);
        this.schedule(service);
      },
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
  }

  private schedule(key: string): void {
    if (this.stopped) return;
    this.due.add(key);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      for (const k of this.due) this.acknowledge(k);
      this.due.clear();
    });
  }

  private acknowledge(key: string): void {
    const [ns, name] = key.split('/');
    const ep = this.endpoints.get(ns, name);
    const generation = String(ep?.metadata.generation ?? 1);
    if (!ep || ep.metadata.annotations?.[this.annotation] === generation) return;
    const uses = this.inFlight.get(key);
    if (uses) {
      const ready = readyKeys(ep); // only when something is relayed: a Service of 300 pods is a set of 300 keys
      for (const c of uses) for (const b of c.backends) if (!ready.has(b)) return; // still draining
    }
    // Only the annotations change (the store copies what it keeps), and nothing reads the result.
    const next = { ...ep, metadata: { ...ep.metadata, annotations: { ...ep.metadata.annotations, [this.annotation]: generation } } };
    this.store.update(next, { shared: true }).catch((err) => {
      // A Conflict means a newer version is on its way, which is acknowledged in turn.
      if (!(err instanceof StoreError && (err.reason === 'Conflict' || err.reason === 'NotFound'))) this.log(`${key}: acknowledging endpoints failed: ${err?.message ?? err}`);
    });
  }
}
