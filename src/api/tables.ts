// Server-side printing (meta.k8s.io/v1 Table), so `kubectl get` shows the usual columns for each kind.
import type { KubeObject } from '../model/object.ts';
import { since as age } from './age.ts';
import { ADMIN_COLUMNS, byMatchingPrecedence, controllerOf } from './admin-columns.ts';
import { asCoreEvent } from './events-v1.ts';
import { compareText } from '../model/compare-text.ts';

/**
 * priority 1: shown by `kubectl get -o wide` only. A cell of null is no value (kubectl prints `<none>`).
 * definition false: a cell Kubernetes prints without defining its column (kubectl drops it).
 */
export interface Column { name: string; type: string; format?: string; priority?: number; description?: string; definition?: false; cell: (o: KubeObject) => unknown }

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };
const count = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).length : 0);
/** `8080:30080/TCP,9000/TCP` as kubectl prints a Service's ports. */
export const servicePorts = (o: KubeObject) =>
  (o.spec?.ports ?? []).map((p: any) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
const sidecarNames = (o: KubeObject) => new Set(((o.spec?.initContainers ?? []) as any[]).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));

/** `2/3`: ready containers of all, sidecar init containers counted with the app containers (as kubectl does). */
export const podReady = (o: KubeObject) => {
  const cs: any[] = o.status?.containerStatuses ?? [];
  const sidecars = sidecarNames(o);
  const readySidecars = ((o.status?.initContainerStatuses ?? []) as any[]).filter((c) => sidecars.has(c.name) && c.started && c.ready).length;
  return `${cs.filter((c) => c.ready && c.state?.running).length + readySidecars}/${(o.spec?.containers?.length ?? cs.length) + sidecars.size}`;
};

export const podRestarts = (o: KubeObject): number => podStatusRestarts(o).restarts;

const terminatedText = (t: any, prefix = '') => prefix + (t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`));

/** kubectl's printPod: the STATUS and RESTARTS of a pod, from its init containers' statuses while it initializes. */
function podStatusRestarts(o: KubeObject): { reason: string; restarts: number } {
  let reason: string = o.status?.reason ?? o.status?.phase ?? 'Pending';
  const sidecars = sidecarNames(o);
  const inits: any[] = o.status?.initContainerStatuses ?? [];
  const total = (o.spec?.initContainers ?? []).length;
  let restarts = 0, sidecarRestarts = 0;
  let initializing = false;
  for (const [i, c] of inits.entries()) {
    restarts += c.restartCount ?? 0;
    if (sidecars.has(c.name)) sidecarRestarts += c.restartCount ?? 0;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (sidecars.has(c.name) && c.started) continue;
    initializing = true;
    if (t) reason = terminatedText(t, 'Init:');
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${total}`;
    break;
  }
  const initializedTrue = (o.status?.conditions ?? []).some((c: any) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    let hasRunning = false;
    const cs: any[] = o.status?.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      restarts += c.restartCount ?? 0;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated) reason = terminatedText(c.state.terminated);
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (o.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  return { reason: o.metadata.deletionTimestamp ? 'Terminating' : reason, restarts };
}

/** The STATUS kubectl shows: a container's waiting or terminated reason beats the phase; Terminating beats all. */
export const podStatusText = (o: KubeObject): string => podStatusRestarts(o).reason;

/** kubectl's formatHPAMetrics for Resource metrics: `cpu: 45%/50%`, `memory: <unknown>/64Mi`; at most two, then `+ N more...`. */
function hpaTargets(o: KubeObject): string {
  const specs: any[] = o.apiVersion === 'autoscaling/v1'
    ? [{ type: 'Resource', resource: { name: 'cpu', target: { averageUtilization: o.spec?.targetCPUUtilizationPercentage ?? 80 } } }]
    : o.spec?.metrics ?? [];
  const statuses: any[] = o.apiVersion === 'autoscaling/v1'
    ? [{ resource: { current: { averageUtilization: o.status?.currentCPUUtilizationPercentage } } }]
    : o.status?.currentMetrics ?? [];
  if (!specs.length) return '<none>';
  const list = specs.slice(0, 2).map((m, i) => {
    const cur = statuses[i]?.resource?.current ?? {};
    const t = m.resource?.target ?? {};
    if (m.type !== 'Resource') return `<unknown>/<unknown> (${m.type})`;
    if (t.averageValue !== undefined) return `${m.resource.name}: ${cur.averageValue ?? '<unknown>'}/${t.averageValue}`;
    return `${m.resource.name}: ${cur.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>'}/${t.averageUtilization !== undefined ? `${t.averageUtilization}%` : '<auto>'}`;
  });
  return specs.length > 2 ? `${list.join(', ')} + ${specs.length - 2} more...` : list.join(', ');
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


/** A label map as kubectl prints it (labels.FormatLabels): sorted `k=v` joined by commas, `<none>` when empty. */
export const formatLabels = (m: Record<string, string> | undefined) =>
  Object.keys(m ?? {}).sort().map((k) => `${k}=${m![k]}`).join(',') || '<none>';

/** A LabelSelector as metav1.LabelSelectorAsSelector(…).String() prints it: requirements sorted by key. */
export function formatSelector(sel: any): string {
  if (!sel) return '<none>';
  const reqs: [string, string][] = Object.entries((sel.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of (sel.matchExpressions ?? []) as any[]) {
    const vs = [...(e.values ?? [])].sort().join(',');
    reqs.push([e.key, e.operator === 'In' ? `${e.key} in (${vs})` : e.operator === 'NotIn' ? `${e.key} notin (${vs})` : e.operator === 'Exists' ? e.key : `!${e.key}`]);
  }
  return reqs.sort((a, b) => compareText(a[0], b[0])).map((r) => r[1]).join(',');
}

const templateContainers = (o: any): any[] => o.spec?.template?.spec?.containers ?? [];
/** CONTAINERS, IMAGES, SELECTOR: the wide columns of every workload kind. */
const workloadWide = (selector = true): Column[] => [
  { name: 'Containers', type: 'string', priority: 1, cell: (o) => templateContainers(o).map((c) => c.name).join(',') },
  { name: 'Images', type: 'string', priority: 1, cell: (o) => templateContainers(o).map((c) => c.image).join(',') },
  ...(selector ? [{ name: 'Selector', type: 'string', priority: 1, cell: (o: KubeObject) => formatSelector(o.spec?.selector) }] : []),
];

/**
 * `3 (5m ago)` in 1.32: the restarts and how long ago the last one ended, counting init containers as printPod does
 * (all of them while the pod initializes, its sidecars after).
 */
function podRestartsText(o: KubeObject): string {
  const { reason, restarts: n } = podStatusRestarts(o);
  const sidecars = sidecarNames(o);
  const inits = ((o.status?.initContainerStatuses ?? []) as any[]).filter((c) => reason.startsWith('Init:') || sidecars.has(c.name));
  const last = [...inits, ...((o.status?.containerStatuses ?? []) as any[])].map((c) => c.lastState?.terminated?.finishedAt).filter(Boolean).sort().at(-1);
  return n > 0 && last ? `${n} (${age(last)} ago)` : String(n);
}

function readinessGates(o: KubeObject): string {
  const gates: any[] = o.spec?.readinessGates ?? [];
  if (!gates.length) return '<none>';
  const ok = gates.filter((g) => (o.status?.conditions ?? []).some((c: any) => c.type === g.conditionType && c.status === 'True')).length;
  return `${ok}/${gates.length}`;
}

function serviceExternalIP(o: KubeObject): string {
  const type = o.spec?.type ?? 'ClusterIP';
  const external: string[] = o.spec?.externalIPs ?? [];
  if (type === 'ExternalName') return o.spec?.externalName ?? '<none>';
  if (type === 'LoadBalancer') {
    const lb = ((o.status?.loadBalancer?.ingress ?? []) as any[]).map((i) => i.ip ?? i.hostname).filter(Boolean);
    const all = [...lb, ...external];
    return all.length ? all.join(',') : '<pending>';
  }
  return external.length ? external.join(',') : '<none>';
}

const address = (o: KubeObject, type: string) => (o.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';
const nodeRoles = (o: KubeObject) => {
  const roles = Object.keys(o.metadata.labels ?? {}).flatMap((k) =>
    k.startsWith('node-role.kubernetes.io/') ? [k.slice('node-role.kubernetes.io/'.length)] : k === 'kubernetes.io/role' ? [o.metadata.labels![k]] : []);
  return roles.filter(Boolean).sort().join(',') || '<none>';
};

/** kubectl's STATUS of a Job (printJob): Complete, Failed, Terminating, Suspended, FailureTarget, else Running. */
export function jobStatus(o: KubeObject): string {
  const cond = (t: string) => (o.status?.conditions ?? []).some((c: any) => c.type === t && c.status === 'True');
  if (cond('Complete')) return 'Complete';
  if (cond('Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (cond('Suspended')) return 'Suspended';
  if (cond('FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** kubectl's COMPLETIONS: `1/3`; without completions (a work queue) `0/1`, or `0/1 of 4` when parallel. */
export function jobCompletions(o: KubeObject): string {
  const succeeded = o.status?.succeeded ?? 0;
  if (o.spec?.completions != null) return `${succeeded}/${o.spec.completions}`;
  const parallelism = o.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** kubectl's DURATION: from start to completion, or to now while it runs; empty before it starts. */
export const jobDuration = (o: KubeObject): string =>
  (o.status?.startTime ? age(o.status.startTime, o.status?.completionTime ? Date.parse(o.status.completionTime) : Date.now()) : '');

/** kubectl's HOSTS of an Ingress (formatHosts): the first three rules' hosts, `*` for none, then `+ N more...`. */
function ingressHosts(o: KubeObject): string {
  const rules: any[] = o.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === max) more = true;
    if (!more && r?.host) list.push(r.host);
  }
  if (!list.length) return '*';
  return more ? `${list.join(',')} + ${rules.length - max} more...` : list.join(',');
}

/** An IntOrString as Go's String() prints it; `N/A` when unset (a PodDisruptionBudget's MIN AVAILABLE, MAX UNAVAILABLE). */
const intOrStringOrNA = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

/** kubectl's PARAMETERS of an IngressClass: `Kind.apiGroup/name`, `<none>` without. */
function ingressClassParameters(o: KubeObject): string {
  const p = o.spec?.parameters;
  if (!p) return '<none>';
  return `${p.kind}${p.apiGroup != null ? `.${p.apiGroup}` : ''}/${p.name}`;
}

/** A Go *bool as printBoolPtr prints it. */
const boolPtr = (v: unknown) => (v === undefined || v === null ? '<unset>' : v ? 'True' : 'False');

/** Kubernetes' own column definitions (pkg/printers/internalversion/printers.go), for each kind convergit serves. */
/** kubectl's short access modes: RWO, ROX, RWX, RWOP. */
const ACCESS: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
/** GetAccessModesAsString: in this fixed order, each once. */
const accessModes = (modes: unknown) => Object.keys(ACCESS).filter((m) => ((modes as string[] | undefined) ?? []).includes(m)).map((m) => ACCESS[m]).join(',');
/** GetPersistentVolume(Claim)Class: the beta annotation still wins over storageClassName. */
const volumeClass = (o: KubeObject) => o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? o.spec?.storageClassName ?? '';
/** storageutil.IsDefaultAnnotation: the GA or the beta annotation says "true". */
const isDefaultClass = (o: KubeObject) => ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class']
  .some((k) => o.metadata.annotations?.[k] === 'true');
/** A claim or volume being deleted shows Terminating, as printPersistentVolume(Claim) says it. */
const volumePhase = (o: KubeObject) => (o.metadata.deletionTimestamp ? 'Terminating' : o.status?.phase ?? 'Pending');
const claimCols: Column[] = [
  { name: 'Status', type: 'string', cell: volumePhase },
  { name: 'Volume', type: 'string', cell: (o) => o.spec?.volumeName ?? '' },
  // Only once the claim names its volume, as printPersistentVolumeClaim does.
  { name: 'Capacity', type: 'string', cell: (o) => (o.spec?.volumeName ? o.status?.capacity?.storage ?? '' : '') },
  { name: 'Access Modes', type: 'string', cell: (o) => (o.spec?.volumeName ? accessModes(o.status?.accessModes) : '') },
  { name: 'StorageClass', type: 'string', cell: volumeClass },
  { name: 'VolumeAttributesClass', type: 'string', cell: (o) => o.spec?.volumeAttributesClassName ?? '<unset>' },
];

/** An int-or-string field as kubectl prints it, N/A when unset. */
const str = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

/** rbac's SubjectsStrings: users, groups and service accounts (`namespace/name`), each joined with ", ". */
const subjects = (o: KubeObject, kind: string) => ((o.subjects ?? []) as any[]).filter((s) => s.kind === kind)
  .map((s) => (kind === 'ServiceAccount' && s.namespace ? `${s.namespace}/${s.name}` : s.name)).join(', ');
const bindingColumns: Column[] = [
  name,
  { name: 'Role', type: 'string', cell: (o: any) => `${o.roleRef?.kind}/${o.roleRef?.name}` },
  ageCol,
  { name: 'Users', type: 'string', priority: 1, cell: (o) => subjects(o, 'User') },
  { name: 'Groups', type: 'string', priority: 1, cell: (o) => subjects(o, 'Group') },
  { name: 'ServiceAccounts', type: 'string', priority: 1, cell: (o) => subjects(o, 'ServiceAccount') },
];

/** printEvent's times: first seen from firstTimestamp (else eventTime), last seen from the series, lastTimestamp, else first. */
function eventTimes(o: any): { first: string; last: string } {
  const first = age(o.firstTimestamp ?? o.eventTime);
  const last = o.series ? age(o.series.lastObservedTime) : o.lastTimestamp ? age(o.lastTimestamp) : first;
  return { first, last };
}

/** formatEventSource: component (else reportingController), then `, host` (else reportingInstance) when there is one. */
function eventSource(o: any): string {
  const component = o.source?.component || o.reportingController || '';
  const host = o.source?.host || o.reportingInstance || '';
  return host ? `${component}, ${host}` : component;
}

/** printEvent's columns; an events.k8s.io/v1 Event is read as the core Event it is stored as. */
const EVENT_COLUMNS: Column[] = ([
  { name: 'Last Seen', type: 'string', cell: (o) => eventTimes(o).last },
  { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
  { name: 'Reason', type: 'string', cell: (o) => o.reason ?? '' },
  { name: 'Object', type: 'string', cell: (o: any) => (o.involvedObject?.name ? `${(o.involvedObject.kind ?? '').toLowerCase()}/${o.involvedObject.name}` : (o.involvedObject?.kind ?? '').toLowerCase()) },
  { name: 'Subobject', type: 'string', priority: 1, cell: (o: any) => o.involvedObject?.fieldPath ?? '' },
  { name: 'Source', type: 'string', priority: 1, cell: eventSource },
  { name: 'Message', type: 'string', cell: (o) => String(o.message ?? '').trim() },
  { name: 'First Seen', type: 'string', priority: 1, cell: (o) => eventTimes(o).first },
  { name: 'Count', type: 'string', priority: 1, cell: (o: any) => o.series?.count ?? (o.count || 1) },
  { name: 'Name', type: 'string', format: 'name', priority: 1, cell: (o) => o.metadata.name },
] as Column[]).map((c) => ({ ...c, cell: (o: KubeObject) => c.cell(asCoreEvent(o)) }));

const COLUMNS: Record<string, Column[]> = {
  PersistentVolumeClaim: [name, ...claimCols, ageCol, { name: 'VolumeMode', type: 'string', priority: 1, cell: (o) => o.spec?.volumeMode ?? 'Filesystem' }],
  PersistentVolume: [
    name,
    { name: 'Capacity', type: 'string', cell: (o) => o.spec?.capacity?.storage ?? '' },
    { name: 'Access Modes', type: 'string', cell: (o) => accessModes(o.spec?.accessModes) },
    { name: 'Reclaim Policy', type: 'string', cell: (o) => o.spec?.persistentVolumeReclaimPolicy ?? 'Retain' },
    { name: 'Status', type: 'string', cell: volumePhase },
    { name: 'Claim', type: 'string', cell: (o) => (o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : '') },
    { name: 'StorageClass', type: 'string', cell: volumeClass },
    { name: 'VolumeAttributesClass', type: 'string', cell: (o) => o.spec?.volumeAttributesClassName ?? '<unset>' },
    { name: 'Reason', type: 'string', cell: (o) => o.status?.reason ?? '' },
    ageCol,
    { name: 'VolumeMode', type: 'string', priority: 1, cell: (o) => o.spec?.volumeMode ?? 'Filesystem' },
  ],
  StorageClass: [
    { ...name, cell: (o) => (isDefaultClass(o) ? `${o.metadata.name} (default)` : o.metadata.name) },
    { name: 'Provisioner', type: 'string', cell: (o) => o.provisioner ?? '' },
    { name: 'ReclaimPolicy', type: 'string', cell: (o) => o.reclaimPolicy ?? 'Delete' },
    { name: 'VolumeBindingMode', type: 'string', cell: (o) => o.volumeBindingMode ?? 'Immediate' },
    { name: 'AllowVolumeExpansion', type: 'string', cell: (o) => !!o.allowVolumeExpansion },
    ageCol,
  ],
  PodDisruptionBudget: [
    name,
    { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.', cell: (o) => intOrStringOrNA(o.spec?.minAvailable) },
    { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.', cell: (o) => intOrStringOrNA(o.spec?.maxUnavailable) },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', cell: (o) => o.status?.disruptionsAllowed ?? 0 },
    ageCol,
  ],
  IngressClass: [
    name,
    { name: 'Controller', type: 'string', description: 'Controller that is responsible for handling this class', cell: (o) => o.spec?.controller ?? '' },
    { name: 'Parameters', type: 'string', description: 'A reference to a resource with additional parameters', cell: ingressClassParameters },
    ageCol,
  ],
  Namespace: [name, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? 'Active' }, ageCol],
  ConfigMap: [name, { name: 'Data', type: 'string', cell: (o) => count(o.data) + count(o.binaryData) }, ageCol],
  Secret: [name, { name: 'Type', type: 'string', cell: (o) => o.type ?? 'Opaque' }, { name: 'Data', type: 'string', cell: (o) => count(o.data) + count(o.stringData) }, ageCol],
  ServiceAccount: [name, { name: 'Secrets', type: 'string', cell: (o) => ((o.secrets as unknown[]) ?? []).length }, ageCol],
  Service: [
    name,
    { name: 'Type', type: 'string', cell: (o) => o.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => o.spec?.clusterIP ?? '<pending>' },
    { name: 'External-IP', type: 'string', cell: serviceExternalIP },
    { name: 'Port(s)', type: 'string', cell: servicePorts },
    ageCol,
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => formatLabels(o.spec?.selector) },
  ],
  Ingress: [
    name,
    { name: 'Class', type: 'string', cell: (o) => o.spec?.ingressClassName ?? '<none>' },
    { name: 'Hosts', type: 'string', cell: ingressHosts },
    { name: 'Address', type: 'string', cell: (o) => ((o.status?.loadBalancer?.ingress ?? []) as any[]).map((i) => i.ip ?? i.hostname).filter(Boolean).join(',') },
    { name: 'Ports', type: 'string', cell: (o) => ((o.spec?.tls ?? []) as unknown[]).length ? '80, 443' : '80' },
    ageCol,
  ],
  Pod: [
    name,
    { name: 'Ready', type: 'string', cell: podReady },
    { name: 'Status', type: 'string', cell: podStatusText },
    { name: 'Restarts', type: 'string', cell: podRestartsText },
    ageCol,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => o.spec?.nodeName ?? '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (o) => o.status?.nominatedNodeName ?? '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: readinessGates },
  ],
  Node: [
    name,
    { name: 'Status', type: 'string', cell: nodeStatus },
    { name: 'Roles', type: 'string', cell: nodeRoles },
    ageCol,
    { name: 'Version', type: 'string', cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => address(o, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, cell: (o) => address(o, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, cell: (o) => o.status?.nodeInfo?.osImage || '<unknown>' },
    { name: 'Kernel-Version', type: 'string', priority: 1, cell: (o) => o.status?.nodeInfo?.kernelVersion || '<unknown>' },
    { name: 'Container-Runtime', type: 'string', priority: 1, cell: (o) => o.status?.nodeInfo?.containerRuntimeVersion || '<unknown>' },
  ],
  Endpoints: [name, { name: 'Endpoints', type: 'string', cell: endpointsText }, ageCol],
  EndpointSlice: [
    name,
    { name: 'AddressType', type: 'string', cell: (o) => o.addressType },
    { name: 'Ports', type: 'string', cell: (o) => ((o.ports as any[]) ?? []).map((p) => p.port).join(',') || '<unset>' },
    { name: 'Endpoints', type: 'string', cell: (o) => {
      const ips = ((o.endpoints as any[]) ?? []).flatMap((e) => e.addresses ?? []);
      if (!ips.length) return '<unset>';
      return ips.length > 3 ? `${ips.slice(0, 3).join(',')} + ${ips.length - 3} more...` : ips.join(',');
    } },
    ageCol,
  ],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}` },
    { name: 'Up-to-date', type: 'string', cell: (o) => o.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'string', cell: (o) => o.status?.availableReplicas ?? 0 },
    ageCol,
    ...workloadWide(),
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.spec?.replicas ?? 1 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.readyReplicas ?? 0 },
    ageCol,
    ...workloadWide(),
  ],
  ReplicationController: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.spec?.replicas ?? 1 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.readyReplicas ?? 0 },
    ageCol,
    { name: 'Containers', type: 'string', priority: 1, cell: (o) => templateContainers(o).map((c) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (o) => templateContainers(o).map((c) => c.image).join(',') },
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => formatLabels(o.spec?.selector) },
  ],
  StatefulSet: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}` },
    ageCol,
    ...workloadWide(false),
  ],
  // As kubectl prints them: the owner as `statefulset.apps/<name>`, the revision number.
  ControllerRevision: [
    name,
    { name: 'Controller', type: 'string', cell: controllerOf },
    { name: 'Revision', type: 'string', cell: (o) => (o.revision as number) ?? 0 },
    ageCol,
  ],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.numberAvailable ?? 0 },
    { name: 'Node Selector', type: 'string', cell: (o) => formatLabels(o.spec?.template?.spec?.nodeSelector) },
    ageCol,
    ...workloadWide(),
  ],
  Job: [
    name,
    { name: 'Status', type: 'string', cell: jobStatus },
    { name: 'Completions', type: 'string', cell: jobCompletions },
    { name: 'Duration', type: 'string', cell: jobDuration },
    ageCol,
    ...workloadWide(),
  ],
  HorizontalPodAutoscaler: [
    name,
    { name: 'Reference', type: 'string', cell: (o) => `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}` },
    { name: 'Targets', type: 'string', cell: hpaTargets },
    { name: 'MinPods', type: 'string', cell: (o) => String(o.spec?.minReplicas ?? 1) },
    { name: 'MaxPods', type: 'string', cell: (o) => o.spec?.maxReplicas },
    { name: 'Replicas', type: 'string', cell: (o) => o.status?.currentReplicas ?? 0 },
    ageCol,
  ],
  CronJob: [
    name,
    { name: 'Schedule', type: 'string', cell: (o) => o.spec?.schedule },
    { name: 'Timezone', type: 'string', cell: (o) => o.spec?.timeZone ?? '<none>' },
    { name: 'Suspend', type: 'boolean', cell: (o) => boolPtr(o.spec?.suspend ?? false) }, // defaulted to false, printed False
    { name: 'Active', type: 'integer', cell: (o) => (o.status?.active ?? []).length },
    { name: 'Last Schedule', type: 'string', cell: (o) => (o.status?.lastScheduleTime ? age(o.status.lastScheduleTime) : '<none>') },
    ageCol,
    { name: 'Containers', type: 'string', priority: 1, cell: (o) => (o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []).map((c: any) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (o) => (o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(',') },
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => formatSelector(o.spec?.jobTemplate?.spec?.selector) },
  ],
  // Beyond here: the kinds kubectl's printers (pkg/printers/internalversion) define columns for, as they print them.
  PodTemplate: [
    name,
    { name: 'Containers', type: 'string', cell: (o: any) => ((o.template?.spec?.containers ?? []) as any[]).map((c) => c.name).join(',') },
    { name: 'Images', type: 'string', cell: (o: any) => ((o.template?.spec?.containers ?? []) as any[]).map((c) => c.image).join(',') },
    { name: 'Pod Labels', type: 'string', cell: (o: any) => formatLabels(o.template?.metadata?.labels) },
  ],
  NetworkPolicy: [name, { name: 'Pod-Selector', type: 'string', cell: (o) => formatSelector(o.spec?.podSelector) || '<none>' }, ageCol],
  RoleBinding: bindingColumns,
  ClusterRoleBinding: bindingColumns,
  Lease: [name, { name: 'Holder', type: 'string', cell: (o) => o.spec?.holderIdentity ?? '' }, ageCol],
  RuntimeClass: [name, { name: 'Handler', type: 'string', cell: (o: any) => o.handler ?? '' }, ageCol],
  Event: EVENT_COLUMNS,
  ...ADMIN_COLUMNS,
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** `includeObject` as kube-apiserver reads it: Metadata unless said otherwise; anything else is a 400. */
export function parseIncludeObject(v: string | null): IncludeObject {
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw new Error(`includeObject: Unsupported value: "${v}": supported values: "Metadata", "None", "Object"`);
}

/** `columns`: a custom resource's, from its CRD (crd-columns.ts); else the kind's own. */
export function toTable(kind: string, items: KubeObject[], resourceVersion: string, include: IncludeObject = 'Metadata', listMeta: Record<string, unknown> = {}, columns?: Column[]) {
  const cols = columns ?? COLUMNS[kind] ?? [name, ageCol];
  const objectOf = (o: KubeObject) =>
    include === 'Object' ? o : include === 'None' ? undefined : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...listMeta },
    columnDefinitions: cols.filter((c) => c.definition !== false).map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? c.name, priority: c.priority ?? 0 })),
    rows: (kind === 'FlowSchema' && !columns ? [...items].sort(byMatchingPrecedence) : items).map((o) => {
      const object = objectOf(o);
      return { cells: cols.map((c) => { const v = c.cell(o); return v === undefined ? '' : v; }), ...(object ? { object } : {}) };
    }),
  };
}

export const wantsTable = (accept: string | undefined) => !!accept && /as=Table/.test(accept);
