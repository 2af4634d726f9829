// What runs, for /status and the status page: each Deployment's, StatefulSet's and DaemonSet's rollout, each Job
// and CronJob, each pod's state, each Service's address.
import type { KubeObject } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { getCondition } from '../model/conditions.ts';
import { age } from './age.ts';
import { jobCompletions, jobDuration, jobStatus, podReady, podRestarts, podStatusText, servicePorts } from './tables.ts';

export interface DeploymentRow {
  namespace: string; name: string; revision?: string;
  replicas: number; updated: number; ready: number; available: number;
  /** The Progressing condition's message, e.g. `ReplicaSet "web-7d9f" is progressing.` */
  message?: string;
  /** Rolling out, or done; Failed once the progress deadline is exceeded. */
  rollout: 'Complete' | 'Progressing' | 'Failed' | 'Paused';
}
/** A StatefulSet: kubectl's READY, its updated pods, the revisions it rolls from and to, and its claims. */
export interface StatefulSetRow {
  namespace: string; name: string; replicas: number; ready: number; updated: number; available: number;
  currentRevision?: string; updateRevision?: string; claims: string[];
  rollout: 'Complete' | 'Progressing';
}
/** A DaemonSet: kubectl's DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE. */
export interface DaemonSetRow {
  namespace: string; name: string; desired: number; current: number; ready: number; updated: number; available: number;
  rollout: 'Complete' | 'Progressing';
}
/** A Job: kubectl's STATUS, COMPLETIONS and DURATION, and the CronJob that made it, if one did. */
export interface JobRow { namespace: string; name: string; status: string; completions: string; duration: string; cronJob?: string }
/** A CronJob: its schedule, whether suspended, its active Jobs and how long ago it last ran and last succeeded. */
export interface CronJobRow { namespace: string; name: string; schedule: string; suspend: boolean; active: number; lastSchedule?: string; lastSuccess?: string }
export interface PodRow { namespace: string; name: string; ready: string; status: string; restarts: number; ip?: string; node?: string }
export interface ServiceRow { namespace: string; name: string; type: string; clusterIP?: string; ports: string; urls: string[] }
/** An Ingress: its class, hosts (`*` for any) and the address the ingress controller wrote ('' until then). */
export interface IngressRow { namespace: string; name: string; className: string; hosts: string; address: string }
export interface Workloads {
  deployments: DeploymentRow[]; statefulSets: StatefulSetRow[]; daemonSets: DaemonSetRow[]; jobs: JobRow[]; cronJobs: CronJobRow[];
  pods: PodRow[]; services: ServiceRow[]; ingresses: IngressRow[];
}

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

const observed = (o: KubeObject) => (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 1);

function statefulSetRow(o: KubeObject): StatefulSetRow {
  const s = o.status ?? {};
  const replicas = o.spec?.replicas ?? 1;
  const row = {
    namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, replicas,
    ready: s.readyReplicas ?? 0, updated: s.updatedReplicas ?? 0, available: s.availableReplicas ?? 0,
    currentRevision: s.currentRevision, updateRevision: s.updateRevision,
    claims: ((o.spec?.volumeClaimTemplates ?? []) as KubeObject[]).map((t) => t.metadata?.name).filter(Boolean),
  };
  // As `kubectl rollout status` says it: every replica updated and ready, and the update revision is current.
  const done = observed(o) && row.ready === replicas && s.replicas === replicas
    && (o.spec?.updateStrategy?.type === 'OnDelete' || (row.updated === replicas && s.currentRevision === s.updateRevision));
  return { ...row, rollout: done ? 'Complete' : 'Progressing' };
}

function daemonSetRow(o: KubeObject): DaemonSetRow {
  const s = o.status ?? {};
  const row = {
    namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, desired: s.desiredNumberScheduled ?? 0,
    current: s.currentNumberScheduled ?? 0, ready: s.numberReady ?? 0, updated: s.updatedNumberScheduled ?? 0, available: s.numberAvailable ?? 0,
  };
  const done = observed(o) && row.updated === row.desired && row.available === row.desired;
  return { ...row, rollout: done ? 'Complete' : 'Progressing' };
}

function jobRow(o: KubeObject): JobRow {
  return {
    namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, status: jobStatus(o), completions: jobCompletions(o),
    duration: jobDuration(o), cronJob: o.metadata.ownerReferences?.find((r) => r.kind === 'CronJob' && r.controller)?.name,
  };
}

function cronJobRow(o: KubeObject): CronJobRow {
  const s = o.status ?? {};
  return {
    namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, schedule: o.spec?.schedule ?? '', suspend: !!o.spec?.suspend,
    active: (s.active ?? []).length,
    lastSchedule: s.lastScheduleTime ? `${age(s.lastScheduleTime)} ago` : undefined,
    lastSuccess: s.lastSuccessfulTime ? `${age(s.lastSuccessfulTime)} ago` : undefined,
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
  const [deployments, statefulSets, daemonSets, jobs, cronJobs, pods, services, ingresses] = await Promise.all(
    ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'Service', 'Ingress'].map((k) => store.list(k, { shared: true }))); // read only
  return {
    deployments: deployments.map(deploymentRow),
    statefulSets: statefulSets.map(statefulSetRow),
    daemonSets: daemonSets.map(daemonSetRow),
    jobs: jobs.map(jobRow),
    cronJobs: cronJobs.map(cronJobRow),
    pods: pods.map(podRow),
    services: services.map((s) => serviceRow(s, nodeHost)),
    ingresses: ingresses.map(ingressRow),
  };
}
