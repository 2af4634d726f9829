// Server-side printing (meta.k8s.io/v1 Table), so `kubectl get` shows the usual columns for each kind.
import type { KubeObject } from '../model/object.ts';
import { age } from './age.ts';

/** priority 1: shown by `kubectl get -o wide` only. */
interface Column { name: string; type: string; format?: string; priority?: number; cell: (o: KubeObject) => unknown }

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };
const count = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).length : 0);
/** `8080:30080/TCP,9000/TCP` as kubectl prints a Service's ports. */
export const servicePorts = (o: KubeObject) =>
  (o.spec?.ports ?? []).map((p: any) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
/** `2/3`: ready containers of all. */
export const podReady = (o: KubeObject) => {
  const cs: any[] = o.status?.containerStatuses ?? [];
  return `${cs.filter((c) => c.ready).length}/${o.spec?.containers?.length ?? cs.length}`;
};

export const podRestarts = (o: KubeObject): number => (o.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);

/** The STATUS kubectl shows: a container's waiting or terminated reason beats the phase; Terminating beats all. */
export function podStatusText(o: KubeObject): string {
  let reason: string = o.status?.reason ?? o.status?.phase ?? 'Pending';
  for (const c of (o.status?.containerStatuses ?? []) as any[]) {
    const t = c.state?.terminated;
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (t) reason = t.reason ?? (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`);
  }
  return o.metadata.deletionTimestamp ? 'Terminating' : reason;
}

/** `10.0.0.1:80,10.0.0.2:80 + 3 more...` as kubectl prints Endpoints. */
function endpointsText(o: KubeObject): string {
  const all = ((o.subsets ?? []) as any[]).flatMap((s) =>
    (s.addresses ?? []).flatMap((a: any) => ((s.ports ?? []).length ? s.ports : [{}]).map((p: any) => (p.port ? `${a.ip}:${p.port}` : a.ip))));
  if (!all.length) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

const nodeStatus = (o: KubeObject) => {
  const ready = (o.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const text = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return o.spec?.unschedulable ? `${text},SchedulingDisabled` : text;
};

const COLUMNS: Record<string, Column[]> = {
  Namespace: [name, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? 'Active' }, ageCol],
  ConfigMap: [name, { name: 'Data', type: 'integer', cell: (o) => count(o.data) + count(o.binaryData) }, ageCol],
  Secret: [name, { name: 'Type', type: 'string', cell: (o) => o.type ?? 'Opaque' }, { name: 'Data', type: 'integer', cell: (o) => count(o.data) + count(o.stringData) }, ageCol],
  Service: [
    name,
    { name: 'Type', type: 'string', cell: (o) => o.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => o.spec?.clusterIP ?? '<pending>' },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    { name: 'Port(s)', type: 'string', cell: servicePorts },
    ageCol,
  ],
  Pod: [
    name,
    { name: 'Ready', type: 'string', cell: podReady },
    { name: 'Status', type: 'string', cell: podStatusText },
    { name: 'Restarts', type: 'integer', cell: podRestarts },
    ageCol,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => o.spec?.nodeName ?? '<none>' },
  ],
  Node: [
    name,
    { name: 'Status', type: 'string', cell: nodeStatus },
    { name: 'Roles', type: 'string', cell: () => '<none>' },
    ageCol,
    { name: 'Version', type: 'string', cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => (o.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address ?? '<none>' },
  ],
  Endpoints: [name, { name: 'Endpoints', type: 'string', cell: endpointsText }, ageCol],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.availableReplicas ?? 0 },
    ageCol,
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.spec?.replicas ?? 1 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.readyReplicas ?? 0 },
    ageCol,
  ],
  Event: [
    { name: 'Last Seen', type: 'string', cell: (o) => age(o.lastTimestamp as string) },
    { name: 'Type', type: 'string', cell: (o) => o.type },
    { name: 'Reason', type: 'string', cell: (o) => o.reason },
    { name: 'Object', type: 'string', cell: (o: any) => `${o.involvedObject?.kind?.toLowerCase()}/${o.involvedObject?.name}` },
    { name: 'Message', type: 'string', cell: (o) => o.message },
  ],
};

export function toTable(kind: string, items: KubeObject[], resourceVersion: string) {
  const cols = COLUMNS[kind] ?? [name, ageCol];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.name, priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export const wantsTable = (accept: string | undefined) => !!accept && /as=Table/.test(accept);
