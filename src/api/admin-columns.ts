// Table columns of the cluster-administration kinds (quotas, scheduling, certificates, admission, flow control, CSI,
// dynamic resource allocation, service CIDRs, RBAC roles, API registration) as kube-apiserver 1.32 prints them:
// pkg/printers/internalversion/printers.go for most; the default table convertor (NAME, CREATED AT) for the kinds
// without a printer there (LimitRange, Role, ClusterRole, CustomResourceDefinition); kube-aggregator's for APIService.
// Where kube-apiserver would have defaulted a field before printing it, the cell shows that default, as on a cluster.
import type { KubeObject } from '../model/object.ts';
import { splitApiVersion } from '../model/kinds.ts';
import { humanDuration, since } from './age.ts';
import type { Column } from './tables.ts';
import { compareText } from '../model/compare-text.ts';

const META_NAME = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const META_CREATED = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const name: Column = { name: 'Name', type: 'string', format: 'name', description: META_NAME, cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', description: META_CREATED, cell: (o) => since(o.metadata.creationTimestamp) };
const col = (n: string, type: string, cell: Column['cell'], priority?: number): Column => ({ name: n, type, cell, ...(priority ? { priority } : {}) });

/** rest.NewDefaultTableConvertor: the name and the creation time in RFC3339 (kubectl prints it as is). */
const DEFAULT_COLUMNS: Column[] = [
  name,
  { name: 'Created At', type: 'date', description: META_CREATED, cell: (o) => (o.metadata.creationTimestamp ? new Date(o.metadata.creationTimestamp).toISOString().replace(/\.\d+Z$/, 'Z') : '0001-01-01T00:00:00Z') },
];

/** printResourceQuota: `resource: used/hard` pairs sorted by name, those named `limits.*` in LIMIT, the others in REQUEST. */
function quotaCells(o: KubeObject): [string, string] {
  const hard: Record<string, string> = o.status?.hard ?? {};
  const used: Record<string, string> = o.status?.used ?? {};
  const request: string[] = [], limit: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const pieces = r.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? limit : request).push(`${r}: ${used[r] ?? '0'}/${hard[r]}`);
  }
  return [request.join(', '), limit.join(', ')];
}

/** extractCSRStatus: Denied over Approved over Pending, then `,Failed` and `,Issued`. */
function csrCondition(o: KubeObject): string {
  const types = new Set(((o.status?.conditions ?? []) as any[]).map((c) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (o.status?.certificate) s += ',Issued';
  return s;
}

/** A metav1.LabelSelector as its generated String() prints it (a ValidatingAdmissionPolicyBinding's PARAMREF). */
function goSelectorString(sel: any): string {
  const labels = Object.keys(sel.matchLabels ?? {}).sort().map((k) => `${k}: ${sel.matchLabels[k]},`).join('');
  const exprs = ((sel.matchExpressions ?? []) as any[])
    .map((e) => `LabelSelectorRequirement{Key:${e.key ?? ''},Operator:${e.operator ?? ''},Values:[${(e.values ?? []).join(' ')}],},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/** printValidatingAdmissionPolicyBinding's PARAMREF: `namespace/name`, `*\/name` without a namespace, or the selector. */
function paramRef(o: KubeObject): string {
  const pr = o.spec?.paramRef;
  if (!pr) return '<unset>';
  if (pr.name) return pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
  return pr.selector ? goSelectorString(pr.selector) : '<unset>';
}

/** printIPAddress's PARENTREF: `resource.group/namespace/name`, lower-cased group-resource. */
function parentRef(o: KubeObject): string {
  const p = o.spec?.parentRef;
  if (!p) return '<none>';
  const gr = (p.group ? `${p.resource}.${p.group}` : `${p.resource ?? ''}`).toLowerCase();
  return `${gr}${p.namespace ? `/${p.namespace}` : ''}/${p.name}`;
}

/** resourceClaimState: deleted, pending, allocated, reserved, as they apply. */
function claimState(o: KubeObject): string {
  const states: string[] = [];
  if (o.metadata.deletionTimestamp) states.push('deleted');
  if (!o.status?.allocation) {
    if (!o.metadata.deletionTimestamp) states.push('pending');
  } else {
    states.push('allocated');
    if ((o.status.reservedFor ?? []).length) states.push('reserved');
  }
  return states.join(',');
}

/** The limited half of a PriorityLevelConfiguration, with flowcontrol/v1's defaults (30 shares; 64 queues, hand 8, 50 long). */
function limitedCells(o: KubeObject): unknown[] {
  const limited = o.spec?.limited;
  if (!limited) return ['<none>', '<none>', '<none>', '<none>'];
  const ncs = limited.nominalConcurrencyShares ?? 30;
  const q = limited.limitResponse?.queuing;
  return q ? [ncs, q.queues ?? 64, q.handSize ?? 8, q.queueLengthLimit ?? 50] : [ncs, '<none>', '<none>', '<none>'];
}

/** apiregistration's AVAILABLE: True, `False (Reason)`, or Unknown while no controller has said. */
function apiServiceAvailable(o: KubeObject): string {
  const c = ((o.status?.conditions ?? []) as any[]).find((x) => x.type === 'Available');
  if (!c) return 'Unknown';
  return c.status !== 'True' && c.reason ? `${c.status} (${c.reason})` : c.status;
}

const csiDriver = (o: KubeObject) => o.spec ?? {};
const webhooks = (o: KubeObject) => ((o.webhooks as unknown[]) ?? []).length;
const paramKind = (o: KubeObject) => (o.spec?.paramKind ? `${o.spec.paramKind.apiVersion}/${o.spec.paramKind.kind}` : '<unset>');

/** printFlowSchemaList's order: by matching precedence (1000 when unset), then by name. */
export const byMatchingPrecedence = (a: KubeObject, b: KubeObject) =>
  (a.spec?.matchingPrecedence ?? 1000) - (b.spec?.matchingPrecedence ?? 1000) || compareText(a.metadata.name, b.metadata.name);

export const ADMIN_COLUMNS: Record<string, Column[]> = {
  LimitRange: DEFAULT_COLUMNS,
  Role: DEFAULT_COLUMNS,
  ClusterRole: DEFAULT_COLUMNS,
  CustomResourceDefinition: DEFAULT_COLUMNS,
  // 1.32 lists AGE second; 1.33 moved it last.
  ResourceQuota: [
    name, age,
    col('Request', 'string', (o) => quotaCells(o)[0]),
    col('Limit', 'string', (o) => quotaCells(o)[1]),
  ],
  ComponentStatus: [
    name,
    col('Status', 'string', (o) => { const c = ((o.conditions as any[]) ?? []).find((x) => x.type === 'Healthy'); return c ? (c.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown'; }),
    col('Message', 'string', (o) => ((o.conditions as any[]) ?? []).find((x) => x.type === 'Healthy')?.message ?? ''),
    col('Error', 'string', (o) => ((o.conditions as any[]) ?? []).find((x) => x.type === 'Healthy')?.error ?? ''),
  ],
  PriorityClass: [
    name,
    col('Value', 'integer', (o) => (o.value as number) ?? 0),
    col('Global-Default', 'boolean', (o) => !!o.globalDefault),
    age,
    col('PreemptionPolicy', 'string', (o) => (o.preemptionPolicy as string) ?? 'PreemptLowerPriority', 1),
  ],
  CertificateSigningRequest: [
    name, age,
    col('SignerName', 'string', (o) => o.spec?.signerName || '<none>'),
    col('Requestor', 'string', (o) => o.spec?.username ?? ''),
    col('RequestedDuration', 'string', (o) => (o.spec?.expirationSeconds != null ? humanDuration(o.spec.expirationSeconds * 1000) : '<none>')),
    col('Condition', 'string', csrCondition),
  ],
  MutatingWebhookConfiguration: [name, col('Webhooks', 'integer', webhooks), age],
  ValidatingWebhookConfiguration: [name, col('Webhooks', 'integer', webhooks), age],
  ValidatingAdmissionPolicy: [
    name,
    col('Validations', 'integer', (o) => (o.spec?.validations ?? []).length),
    col('ParamKind', 'string', paramKind),
    age,
  ],
  ValidatingAdmissionPolicyBinding: [name, col('PolicyName', 'string', (o) => o.spec?.policyName ?? ''), col('ParamRef', 'string', paramRef), age],
  FlowSchema: [
    name,
    col('PriorityLevel', 'string', (o) => o.spec?.priorityLevelConfiguration?.name ?? ''),
    col('MatchingPrecedence', 'string', (o) => o.spec?.matchingPrecedence ?? 1000),
    col('DistinguisherMethod', 'string', (o) => o.spec?.distinguisherMethod?.type ?? '<none>'),
    age,
    col('MissingPL', 'string', (o) => ((o.status?.conditions ?? []) as any[]).find((c) => c.type === 'Dangling')?.status ?? '?'),
  ],
  PriorityLevelConfiguration: [
    name,
    col('Type', 'string', (o) => o.spec?.type ?? ''),
    col('NominalConcurrencyShares', 'string', (o) => limitedCells(o)[0]),
    col('Queues', 'string', (o) => limitedCells(o)[1]),
    col('HandSize', 'string', (o) => limitedCells(o)[2]),
    col('QueueLengthLimit', 'string', (o) => limitedCells(o)[3]),
    age,
  ],
  // storage/v1's defaults: attachRequired true, the others false, the Persistent mode.
  CSIDriver: [
    name,
    col('AttachRequired', 'boolean', (o) => csiDriver(o).attachRequired ?? true),
    col('PodInfoOnMount', 'boolean', (o) => csiDriver(o).podInfoOnMount ?? false),
    col('StorageCapacity', 'boolean', (o) => csiDriver(o).storageCapacity ?? false),
    col('TokenRequests', 'string', (o) => (csiDriver(o).tokenRequests ? (csiDriver(o).tokenRequests as any[]).map((t) => t.audience).join(',') : '<unset>')),
    col('RequiresRepublish', 'boolean', (o) => csiDriver(o).requiresRepublish ?? false),
    col('Modes', 'string', (o) => ((csiDriver(o).volumeLifecycleModes as string[] | undefined) ?? ['Persistent']).join(',') || '<none>'),
    age,
  ],
  CSINode: [name, col('Drivers', 'integer', (o) => (o.spec?.drivers ?? []).length), age],
  CSIStorageCapacity: [
    name,
    col('StorageClassName', 'string', (o) => (o.storageClassName as string) ?? ''),
    col('Capacity', 'string', (o) => (o.capacity as string) ?? '<unset>'),
  ],
  VolumeAttachment: [
    name,
    { ...col('Attacher', 'string', (o) => o.spec?.attacher ?? ''), format: 'name' },
    col('PV', 'string', (o) => o.spec?.source?.persistentVolumeName ?? ''),
    col('Node', 'string', (o) => o.spec?.nodeName ?? ''),
    col('Attached', 'boolean', (o) => !!o.status?.attached),
    age,
  ],
  VolumeAttributesClass: [
    { ...name, cell: (o) => (o.metadata.annotations?.['volumeattributesclass.alpha.kubernetes.io/is-default-class'] === 'true' ? `${o.metadata.name} (default)` : o.metadata.name) },
    col('DriverName', 'string', (o) => (o.driverName as string) ?? ''),
    age,
  ],
  ServiceCIDR: [name, col('CIDRs', 'string', (o) => (o.spec?.cidrs ?? []).join(',')), age],
  // 1.32 defines two columns but prints the age as a third cell, which kubectl drops.
  IPAddress: [name, col('ParentRef', 'string', parentRef), { ...age, definition: false }],
  DeviceClass: [name, age],
  ResourceClaim: [name, col('State', 'string', claimState), age],
  ResourceClaimTemplate: [name, age],
  ResourceSlice: [
    name,
    col('Node', 'string', (o) => o.spec?.nodeName ?? ''),
    col('Driver', 'string', (o) => o.spec?.driver ?? ''),
    col('Pool', 'string', (o) => o.spec?.pool?.name ?? ''),
    age,
  ],
  APIService: [
    name,
    col('Service', 'string', (o) => (o.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local')),
    col('Available', 'string', apiServiceAvailable),
    age,
  ],
};

/** printControllerRevision's CONTROLLER: `kind.group/name` of the controlling owner, lower-cased. */
export function controllerOf(o: KubeObject): string {
  const r = o.metadata.ownerReferences?.find((x) => x.controller);
  if (!r) return '<none>';
  const [group] = splitApiVersion(r.apiVersion);
  return `${`${r.kind}${group ? `.${group}` : ''}`.toLowerCase()}/${r.name}`;
}
