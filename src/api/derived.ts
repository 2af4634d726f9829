// What the API serves beyond the stored objects, computed on read and never stored: EndpointSlices
// (discovery.k8s.io/v1) derived from Endpoints, as kube's endpointslice-mirroring would keep them, so
// `kubectl describe svc` finds its endpoints.
import { createHash } from 'node:crypto';
import type { KindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import { METRICS_KINDS } from './resource-metrics.ts';

export const ENDPOINT_SLICE: KindInfo = {
  kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', versions: ['v1'], resource: 'endpointslices', singular: 'endpointslice',
  shortNames: [], categories: [], namespaced: true, mode: 'kept', reason: 'derived from Endpoints', fromGit: false, definitions: { v1: 'io.k8s.api.discovery.v1.EndpointSlice' },
};

/** Kinds served only by derivation, by `group/resource` (and the resource metrics, measured by the nodes). */
export const DERIVED_KINDS: readonly KindInfo[] = [ENDPOINT_SLICE, ...METRICS_KINDS];

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);
/** A stable uid, so a client sees the same object on every read. */
const uidFor = (s: string) => { const h = hex(s, 32); return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`; };

/** The EndpointSlice mirroring one Endpoints object (IPv4 addresses; not-ready addresses with ready: false). */
export function endpointSliceOf(ep: KubeObject): KubeObject {
  const svc = ep.metadata.name;
  const endpoints: any[] = [];
  let ports: any[] = [];
  for (const s of (ep.subsets ?? []) as any[]) {
    if (!ports.length) ports = (s.ports ?? []).map((p: any) => ({ ...(p.name !== undefined ? { name: p.name } : { name: '' }), port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    const add = (a: any, ready: boolean) => endpoints.push({
      addresses: [a.ip],
      conditions: { ready, serving: ready, terminating: false },
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.targetRef ? { targetRef: a.targetRef } : {}),
    });
    for (const a of s.addresses ?? []) add(a, true);
    for (const a of s.notReadyAddresses ?? []) add(a, false);
  }
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svc}-${hex(`${ep.metadata.namespace}/${svc}`, 5)}`,
      namespace: ep.metadata.namespace,
      uid: uidFor(`endpointslice/${ep.metadata.uid ?? `${ep.metadata.namespace}/${svc}`}`),
      resourceVersion: ep.metadata.resourceVersion,
      generation: 1,
      creationTimestamp: ep.metadata.creationTimestamp,
      labels: {
        ...ep.metadata.labels,
        'kubernetes.io/service-name': svc,
        'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: svc, uid: ep.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}
