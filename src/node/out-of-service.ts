// Out of service before stopped: a leaving pod's containers get SIGTERM only once every Service that selects it
// has Endpoints without it that the proxy has put into effect and drained (see model/proxied.ts), or its grace
// period is over. Read from the store, as the rest: the node never calls the proxy. One per serve, shared by its
// nodes: each Endpoints change (and the proxies' acknowledgements of it) reached an informer in every node, 1,000
// of them in a hollow cluster, which doubled the CPU of a pod behind a Service.
import type { KubeObject } from '../model/object.ts';
import { isProxied, listsPod } from '../model/proxied.ts';
import { servicesOf } from '../model/service-selector.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';

export class OutOfService {
  private readonly services: Informer;
  private readonly endpoints: Informer;
  private readonly waiters = new Set<() => void>();
  private stopped = false;

  constructor(store: Store) {
    this.services = new Informer(store, 'Service');
    this.endpoints = new Informer(store, 'Endpoints');
    for (const i of [this.services, this.endpoints]) i.on({ add: this.recheck, update: this.recheck, delete: this.recheck });
  }

  async start(): Promise<void> {
    await this.services.start();
    await this.endpoints.start();
  }

  /** Nobody waits for a proxy any more: every wait ends. */
  stop(): void {
    this.stopped = true;
    this.services.stop();
    this.endpoints.stop();
    this.recheck();
  }

  /** Ends the waits whose `giveUp` now says so (their node is stopping), and those whose pod is out of service. */
  readonly recheck = (): void => {
    for (const w of [...this.waiters]) w();
  };

  /** No Service that selects `pod` sends to it any more (or its Endpoints are not yet proxied: nothing to wait for). */
  isOut(pod: KubeObject): boolean {
    for (const svc of servicesOf(this.services, pod)) {
      const ep = this.endpoints.get(svc.metadata.namespace, svc.metadata.name);
      if (ep && (listsPod(ep, pod.metadata.uid!) || !isProxied(ep))) return false;
    }
    return true;
  }

  /** Resolves once `pod` is out of service, `timeoutMs` has passed, or `giveUp()` says so at a recheck. */
  wait(pod: KubeObject, timeoutMs: number, giveUp: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = () => { if (this.stopped || giveUp() || this.isOut(pod)) done(); };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(check);
      check();
    });
  }
}
