// What runs, for /status and the status page: each Deployment's rollout, each pod's state, each Service's address.
import type { KubeObject } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { getCondition } from '../model/conditions.ts';
import { podReady, podRestarts, podStatusText, servicePorts } from './tables.ts';

export interface DeploymentRow {
  namespace: string; name: string; revision?: string;
  replicas: number; updated: number; ready: number; available: number;
  /** The Progressing condition's message, e.g. `ReplicaSet "web-7d9f" is progressing.` */
  message?: string;
  /** Rolling out, or done; Failed once the progress deadline is exceeded. */
  rollout: 'Complete' | 'Progressing' | 'Failed' | 'Paused';
}
export interface PodRow { namespace: string; name: string; ready: string; status: string; restarts: number; ip?: string; node?: string }
export interface ServiceRow { namespace: string; name: string; type: string; clusterIP?: string; ports: string; urls: string[] }
/** An Ingress: its class, hosts (`*` for any) and the address the ingress controller wrote ('' until then). */
export interface IngressRow { namespace: string; name: string; className: string; hosts: string; address: string }
export interface Workloads { deployments: DeploymentRow[]; pods: PodRow[]; services: ServiceRow[]; ingresses: IngressRow[] }

function rolloutOf(d: KubeObject): DeploymentRow['rollout'] {
  const p = getCondition(d.status?.conditions, 'Progressing');
  if (d.spec?.paused) return 'Paused';
  if (p?.reason === 'ProgressDeadlineExceeded') return 'Failed';
  const s = d.status ?? {};
  const done = s.observedGeneration >= (d.metadata.generation ?? 1) && s.updatedReplicas === d.spec?.replicas
    && s.replicas === d.spec?.replicas && s.availableReplicas === d.spec?.replicas;
  return done ? 'Complete' : 'Progressing';
}

function deploymentRow(d: KubeObject): DeploymentRow {
  const s = d.status ?? {};
  return {
    namespace: d.metadata.namespace ?? 'default', name: d.metadata.name,
    revision: d.metadata.annotations?.['deployment.kubernetes.io/revision'],
    replicas: d.spec?.replicas ?? 1, updated: s.updatedReplicas ?? 0, ready: s.readyReplicas ?? 0, available: s.availableReplicas ?? 0,
    message: getCondition(s.conditions, 'Progressing')?.message, rollout: rolloutOf(d),
  };
}

function podRow(p: KubeObject): PodRow {
  return {
    namespace: p.metadata.namespace ?? 'default', name: p.metadata.name,
    ready: podReady(p), status: podStatusText(p), restarts: podRestarts(p),
    ip: p.status?.podIP, node: p.spec?.nodeName,
  };
}

/** `nodeHost`: where NodePorts listen, for the URLs a person can open. */
function serviceRow(s: KubeObject, nodeHost: string): ServiceRow {
  const ports: any[] = s.spec?.ports ?? [];
  return {
    namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, type: s.spec?.type ?? 'ClusterIP', clusterIP: s.spec?.clusterIP,
    ports: servicePorts(s),
    urls: ports.filter((p) => p.nodePort).map((p) => `http://${nodeHost}:${p.nodePort}/`),
  };
}

function ingressRow(i: KubeObject): IngressRow {
  return {
    namespace: i.metadata.namespace ?? 'default', name: i.metadata.name, className: i.spec?.ingressClassName ?? '',
    hosts: ((i.spec?.rules ?? []) as any[]).map((r) => r?.host).filter(Boolean).join(',') || '*',
    address: ((i.status?.loadBalancer?.ingress ?? []) as any[]).map((a) => a.ip ?? a.hostname).filter(Boolean).join(','),
  };
}

export async function workloads(store: Store, nodeHost: string): Promise<Workloads> {
  const [deployments, pods, services, ingresses] = await Promise.all(['Deployment', 'Pod', 'Service', 'Ingress'].map((k) => store.list(k, { shared: true }))); // read only
  return {
    deployments: deployments.map(deploymentRow),
    pods: pods.map(podRow),
    services: services.map((s) => serviceRow(s, nodeHost)),
    ingresses: ingresses.map(ingressRow),
  };
}
