// APIServices as kube-aggregator keeps them: one Local APIService per group-version this server serves itself
// (autoregistered at start, as kube-apiserver does for its own groups and the CRDs'), and for committed ones the
// Available condition its availability controller would write, computed on read from the Services and Endpoints.
// convergit aggregates nothing: an APIService whose Service has ready endpoints is still not Available (NotAggregated).
import { createHash } from 'node:crypto';
import { allKinds } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import { groupVersions } from './discovery.ts';
import { ApiError } from './resource-version.ts';

/** kube-apiserver's APIServicePriorities (pkg/controlplane/apiserver/aggregator.go, controlplane/instance.go). */
const PRIORITIES: Record<string, [number, number]> = {
  '/v1': [18000, 1], 'apps/v1': [17800, 15], 'events.k8s.io/v1': [17750, 15], 'authentication.k8s.io/v1': [17700, 15],
  'authorization.k8s.io/v1': [17600, 15], 'autoscaling/v1': [17500, 15], 'autoscaling/v2': [17500, 30], 'batch/v1': [17400, 15],
  'certificates.k8s.io/v1': [17300, 15], 'networking.k8s.io/v1': [17200, 15], 'networking.k8s.io/v1beta1': [17200, 9],
  'policy/v1': [17100, 15], 'rbac.authorization.k8s.io/v1': [17000, 15], 'storage.k8s.io/v1': [16800, 15], 'storage.k8s.io/v1beta1': [16800, 9],
  'apiextensions.k8s.io/v1': [16700, 15], 'admissionregistration.k8s.io/v1': [16700, 15], 'scheduling.k8s.io/v1': [16600, 15],
  'coordination.k8s.io/v1': [16500, 15], 'node.k8s.io/v1': [16300, 15], 'discovery.k8s.io/v1': [16200, 15],
  'flowcontrol.apiserver.k8s.io/v1': [16100, 21], 'resource.k8s.io/v1beta1': [16200, 9],
  // metrics-server's own manifest.
  'metrics.k8s.io/v1beta1': [100, 100],
};
/** crdregistration's priorities for the CRDs' groups; the same for a built-in group the table above lacks. */
const CRD_PRIORITY: [number, number] = [1000, 100];

/** A request after the server began to stop: nothing is started for it any more. */
const stoppedError = () => new ApiError(503, 'the API server is shutting down', 'ServiceUnavailable');

const uidOf = (s: string) => { const h = createHash('sha256').update(s).digest('hex'); return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`; };

const condition = (status: 'True' | 'False', reason: string, message: string, since?: string) =>
  ({ type: 'Available', status, ...(since ? { lastTransitionTime: since } : {}), reason, message });

/** The Local APIServices of the group-versions served now, created (as on a cluster) when the cluster was. */
export function localApiServices(createdAt: string | undefined): KubeObject[] {
  const custom = new Set(allKinds().filter((k) => k.custom).map((k) => k.group));
  const gvs: [string, string][] = [['', 'v1'], ...[...groupVersions()].flatMap(([g, vs]) => vs.map((v): [string, string] => [g, v]))];
  return gvs.map(([group, version]) => {
    const name = `${version}.${group}`;
    const [groupPriorityMinimum, versionPriority] = (!custom.has(group) && PRIORITIES[`${group}/${version}`]) || CRD_PRIORITY;
    return {
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService',
      metadata: { name, uid: uidOf(`apiservice/${name}`), resourceVersion: '1', creationTimestamp: createdAt, labels: { 'kube-aggregator.kubernetes.io/automanaged': custom.has(group) ? 'true' : 'onstart' } },
      spec: { ...(group ? { group } : {}), version, groupPriorityMinimum, versionPriority },
      status: { conditions: [condition('True', 'Local', 'Local APIServices are always available', createdAt)] },
    };
  });
}

/** Services and Endpoints through informers (started on first use), to judge committed APIServices as kube-aggregator does. */
export class ApiServiceAvailability {
  private services?: Informer;
  private endpoints?: Informer;
  private started?: Promise<void>;
  private stopped = false;

  constructor(private readonly store: Store) {}

  /** Starts the informers on first use. Final after stop(): refused, and nothing starts. */
  async ready(): Promise<void> {
    if (this.stopped) throw stoppedError();
    this.started ??= (async () => {
      const services = this.services = new Informer(this.store, 'Service');
      const endpoints = this.endpoints = new Informer(this.store, 'Endpoints');
      await Promise.all([services.start(), endpoints.start()]);
      // stop() during the start may have come before their watches were registered: stopped again now.
      if (this.stopped) { services.stop(); endpoints.stop(); }
    })();
    await this.started;
    if (this.stopped) throw stoppedError();
  }

  stop(): void {
    this.stopped = true;
    this.services?.stop();
    this.endpoints?.stop();
  }

  /** The committed APIService with the status kube-aggregator's available-condition controller gives it. */
  withStatus = (o: KubeObject): KubeObject => ({ ...o, status: { ...o.status, conditions: [this.available(o)] } });

  private available(o: KubeObject) {
    const since = o.metadata.creationTimestamp;
    const ref = o.spec?.service;
    if (!ref) return condition('True', 'Local', 'Local APIServices are always available', since);
    const svcName = `service/${ref.name} in ${JSON.stringify(ref.namespace)}`;
    const svc = this.services?.get(ref.namespace, ref.name);
    if (!svc) return condition('False', 'ServiceNotFound', `${svcName} is not present`, since);
    if ((svc.spec?.type ?? 'ClusterIP') === 'ClusterIP') {
      const port = ref.port ?? 443;
      const found = ((svc.spec?.ports ?? []) as any[]).find((p) => p.port === port);
      if (!found) return condition('False', 'ServicePortError', `${svcName} is not listening on port ${port}`, since);
      const portName = found.name ?? '';
      const ep = this.endpoints?.get(ref.namespace, ref.name);
      if (!ep) return condition('False', 'EndpointsNotFound', `cannot find endpoints for ${svcName}`, since);
      const active = ((ep.subsets ?? []) as any[]).some((s) => (s.addresses ?? []).length && (s.ports ?? []).some((p: any) => (p.name ?? '') === portName));
      if (!active) return condition('False', 'MissingEndpoints', `endpoints for ${svcName} have no addresses with port name ${JSON.stringify(portName)}`, since);
    }
    const gv = `${o.spec?.group ?? ''}/${o.spec?.version ?? ''}`;
    return condition('False', 'NotAggregated', `convergit does not proxy aggregated APIs: ${svcName} is ready, but ${gv} is not served through this API`, since);
  }
}
