// GET /metrics in Prometheus' text format (prom-client): the API's requests as kube-apiserver names them, the GitOps
// loop as Flux reports it (read from /status at scrape time), and pods by phase and container restarts as
// kube-state-metrics names them. Everything but the request counters is computed from the store when scraped.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/store.ts';
import { componentRegistry } from '../model/metrics-registry.ts';
import type { StatusReport } from '../sync/status.ts';

export interface RequestLabels { verb: string; group: string; version: string; resource: string; subresource: string; scope: string }

/** Flux names its objects by kind; convergit's one source and its one reconciler are both called this. */
const NAME = 'convergit';

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly durations: Histogram<string>;
  private readonly reconciles: Histogram<string>;
  /** Revisions whose apply time is already observed. */
  private readonly observed = new Set<string>();

  constructor(private readonly store: Store) {
    const registers = [this.registry];
    const labelNames = ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'];
    this.requests = new Counter({ name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.', labelNames: [...labelNames, 'code'], registers });
    this.durations = new Histogram({
      name: 'apiserver_request_duration_seconds', help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames, buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60], registers,
    });
    // Every collector only reads: the stored records and objects, not a copy of them per scrape.
    const status = () => store.getMeta<StatusReport>('status', { shared: true });
    const self = this;
    this.reconciles = new Histogram({
      name: 'gotk_reconcile_duration_seconds', help: 'The duration in seconds of a GitOps reconciliation: from detecting a revision to having applied it.',
      labelNames: ['kind', 'name', 'namespace'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers,
      // Observed as it is collected, so a revision applied since the last scrape is in this one.
      async collect() { self.observeReconciles(await status()); },
    });
    new Gauge({
      name: 'gotk_reconcile_condition', help: 'The current condition status of a GitOps toolkit resource reconciliation.',
      labelNames: ['kind', 'name', 'namespace', 'type', 'status'], registers,
      async collect() {
        this.reset();
        const s = await status();
        for (const c of s?.conditions ?? []) {
          for (const v of ['True', 'False', 'Unknown']) this.set({ kind: 'Kustomization', name: NAME, namespace: '', type: c.type, status: v }, c.status === v ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'gotk_resource_info', help: 'The current state of a GitOps toolkit resource, with its last applied revision.',
      labelNames: ['kind', 'name', 'namespace', 'ready', 'suspended', 'revision', 'source_name'], registers,
      async collect() {
        this.reset();
        const s = await status();
        if (!s) return;
        const ready = s.conditions.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
        this.set({ kind: 'Kustomization', name: NAME, namespace: '', ready, suspended: String(s.state === 'suspended'), revision: s.lastAppliedRevision ?? '', source_name: s.repository }, 1);
      },
    });
    new Gauge({
      name: 'gotk_suspend_status', help: 'The current suspend status of a GitOps toolkit resource.',
      labelNames: ['kind', 'name', 'namespace'], registers,
      async collect() {
        this.reset();
        const s = await status();
        this.set({ kind: 'Kustomization', name: NAME, namespace: '' }, s?.state === 'suspended' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kube_pod_status_phase', help: 'The pods current phase.', labelNames: ['namespace', 'pod', 'uid', 'phase'], registers,
      async collect() {
        this.reset();
        for (const p of await store.list('Pod', { shared: true })) {
          for (const phase of ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']) {
            this.set({ namespace: p.metadata.namespace ?? '', pod: p.metadata.name, uid: p.metadata.uid ?? '', phase }, (p.status?.phase ?? 'Pending') === phase ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: 'kube_pod_container_status_restarts_total', help: 'The number of container restarts per container.', labelNames: ['namespace', 'pod', 'uid', 'container'], registers,
      async collect() {
        this.reset();
        for (const p of await store.list('Pod', { shared: true })) {
          for (const c of (p.status?.containerStatuses ?? []) as any[]) {
            this.set({ namespace: p.metadata.namespace ?? '', pod: p.metadata.name, uid: p.metadata.uid ?? '', container: c.name }, c.restartCount ?? 0);
          }
        }
      },
    });
  }

  /** One request, when its response has ended (watches: when the watch ends). */
  request(l: RequestLabels, code: number, seconds: number): void {
    const labels = { ...l, component: 'apiserver' };
    this.requests.inc({ ...labels, code: String(code) });
    if (l.verb !== 'WATCH') this.durations.observe(labels, seconds); // as kube-apiserver: long-running requests are not latencies
  }

  /** Each applied revision's detection → apply time, once. */
  private observeReconciles(s: StatusReport | undefined): void {
    for (const h of s?.history ?? []) {
      if (!h.appliedAt || this.observed.has(h.sha)) continue;
      this.observed.add(h.sha);
      this.reconciles.observe({ kind: 'Kustomization', name: NAME, namespace: '' }, Math.max(0, (Date.parse(h.appliedAt) - Date.parse(h.detectedAt)) / 1000));
    }
  }

  async text(): Promise<{ contentType: string; body: string }> {
    // The controllers' and scheduler's own metrics live in the process-wide registry (they run in this process).
    return { contentType: this.registry.contentType, body: await this.registry.metrics() + '\n' + await componentRegistry.metrics() };
  }
}
