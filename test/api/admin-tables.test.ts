// The Table API (what `kubectl get` prints) over real HTTP for the cluster-administration kinds, against the columns,
// order, types, -o wide priorities and cells of kube-apiserver 1.32's printers (pkg/printers/internalversion),
// its default table convertor (NAME, CREATED AT) and kube-aggregator's APIService columns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { humanDuration } from '../../src/api/age.ts';
import { toTable } from '../../src/api/tables.ts';
import { kindInfo } from '../../src/model/kinds.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { usageKey } from '../../src/model/node-usage.ts';

// Every object is created 3h25m ago, so AGE reads as duration.HumanDuration prints it.
const CREATED = new Date(Math.floor(Date.now() / 1000) * 1000 - (3 * 60 + 25) * 60_000);
let dir: string, store: Store, api: ApiServer;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-admin-tables-'));
  store = await openStore(dir, { now: () => CREATED });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Creates the objects (status set after), then GETs the kind's list as a Table. */
async function table(kind: string, objects: Record<string, unknown>[], group?: string) {
  const info = kindInfo(kind)!;
  const g = group ?? info.group;
  for (const { status, ...o } of objects) {
    const obj = { apiVersion: g ? `${g}/${info.version}` : info.version, kind, ...o, metadata: { ...(info.namespaced ? { namespace: 'default' } : {}), ...(o.metadata as object) } } as KubeObject;
    await store.create(obj);
    if (status) await store.updateStatus(kind, obj.metadata.namespace, obj.metadata.name, status);
  }
  const url = `${api.url}/${g ? `apis/${g}` : 'api'}/${info.version}/${info.namespaced ? 'namespaces/default/' : ''}${info.resource}`;
  const res = await fetch(url, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  assert.is(res.status, 200, url);
  const t = (await res.json()) as any;
  return {
    columns: t.columnDefinitions.map((c: any) => `${c.name}:${c.type}${c.priority ? ':wide' : ''}`),
    rows: t.rows.map((r: any) => r.cells),
  };
}
const AGE = '3h25m';

test('AGE as duration.HumanDuration: seconds, minutes and seconds, hours and minutes, days and hours, years', () => {
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  assert.equal([90 * s, 5 * m + 30 * s, 45 * m, 3 * h + 25 * m, 20 * h, 2 * d + 5 * h, 30 * d, 800 * d, 3000 * d, -5 * s].map(humanDuration),
    ['90s', '5m30s', '45m', '3h25m', '20h', '2d5h', '30d', '2y70d', '8y', '<invalid>']);
});

test('default convertor for LimitRange, Role, ClusterRole and CRDs: NAME and CREATED AT in RFC3339', async () => {
  const createdAt = CREATED.toISOString().replace(/\.\d+Z$/, 'Z');
  const expect = { columns: ['Name:string', 'Created At:date'], rows: [['x', createdAt]] };
  assert.equal(await table('LimitRange', [{ metadata: { name: 'x' }, spec: { limits: [{ type: 'Container', default: { cpu: '1' } }] } }]), expect);
  assert.equal(await table('Role', [{ metadata: { name: 'x' }, rules: [] }]), expect);
  assert.equal(await table('ClusterRole', [{ metadata: { name: 'x' }, rules: [] }]), expect);
  assert.equal(await table('CustomResourceDefinition', [{ metadata: { name: 'x' }, spec: { group: 'example.com', names: { plural: 'xs', kind: 'X' }, scope: 'Namespaced', versions: [] } }]), expect);
});

test('ResourceQuota (AGE second in 1.32), PriorityClass (PREEMPTIONPOLICY wide, defaulted), ComponentStatus', async () => {
  const rq = await table('ResourceQuota', [{
    metadata: { name: 'compute' }, spec: {},
    status: { hard: { 'requests.cpu': '1', 'limits.memory': '2Gi', pods: '10', 'limits.cpu': '2' }, used: { 'requests.cpu': '500m', pods: '3' } },
  }]);
  assert.equal(rq, { columns: ['Name:string', 'Age:string', 'Request:string', 'Limit:string'], rows: [['compute', AGE, 'pods: 3/10, requests.cpu: 500m/1', 'limits.cpu: 0/2, limits.memory: 0/2Gi']] });
  const pc = await table('PriorityClass', [{ metadata: { name: 'high' }, value: 1000000, globalDefault: true }, { metadata: { name: 'low' }, value: -5, preemptionPolicy: 'Never' }]);
  assert.equal(pc, {
    columns: ['Name:string', 'Value:integer', 'Global-Default:boolean', 'Age:string', 'PreemptionPolicy:string:wide'],
    rows: [['high', 1000000, true, AGE, 'PreemptLowerPriority'], ['low', -5, false, AGE, 'Never']],
  });
  // componentstatuses are probed, not stored (control-plane.test.ts): their printer, over objects of each state.
  const cs = toTable('ComponentStatus', [
    { apiVersion: 'v1', kind: 'ComponentStatus', metadata: { name: 'etcd-0' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] },
    { apiVersion: 'v1', kind: 'ComponentStatus', metadata: { name: 'scheduler' }, conditions: [{ type: 'Healthy', status: 'False', error: 'refused' }] },
    { apiVersion: 'v1', kind: 'ComponentStatus', metadata: { name: 'x' } },
  ], '');
  assert.equal({ columns: cs.columnDefinitions.map((c) => `${c.name}:${c.type}`), rows: cs.rows.map((r) => r.cells) },
    { columns: ['Name:string', 'Status:string', 'Message:string', 'Error:string'], rows: [['etcd-0', 'Healthy', 'ok', ''], ['scheduler', 'Unhealthy', '', 'refused'], ['x', 'Unknown', '', '']] });
});

test('CertificateSigningRequest: AGE second, signer, requestor (convergit, whatever git says), duration, condition precedence', async () => {
  const csr = await table('CertificateSigningRequest', [
    { metadata: { name: 'a' }, spec: { request: 'eA==', signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: (2 * 24 + 5) * 3600, username: 'ann' },
      status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }], certificate: 'eA==' } },
    { metadata: { name: 'b' }, spec: { request: 'eA==', signerName: 'example.com/x', usages: [] }, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] } },
    { metadata: { name: 'c' }, spec: { request: 'eA==', signerName: 'example.com/x', usages: [] } },
  ]);
  assert.equal(csr, {
    columns: ['Name:string', 'Age:string', 'SignerName:string', 'Requestor:string', 'RequestedDuration:string', 'Condition:string'],
    rows: [['a', AGE, 'kubernetes.io/kube-apiserver-client', 'convergit', '2d5h', 'Approved,Failed,Issued'], ['b', AGE, 'example.com/x', 'convergit', '<none>', 'Denied'], ['c', AGE, 'example.com/x', 'convergit', '<none>', 'Pending']],
  });
});

test('admission: webhook configurations count webhooks; policies count validations, show the param kind; bindings the param ref', async () => {
  const hook = { name: 'h.example.com', clientConfig: { url: 'https://h' }, sideEffects: 'None', admissionReviewVersions: ['v1'] };
  const expect = (n: string) => ({ columns: ['Name:string', 'Webhooks:integer', 'Age:string'], rows: [[n, 2, AGE]] });
  assert.equal(await table('MutatingWebhookConfiguration', [{ metadata: { name: 'm' }, webhooks: [hook, { ...hook, name: 'i.example.com' }] }]), expect('m'));
  assert.equal(await table('ValidatingWebhookConfiguration', [{ metadata: { name: 'v' }, webhooks: [hook, { ...hook, name: 'i.example.com' }] }]), expect('v'));
  const vap = await table('ValidatingAdmissionPolicy', [
    { metadata: { name: 'limits' }, spec: { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, validations: [{ expression: 'true' }, { expression: '1 == 1' }] } },
    { metadata: { name: 'plain' }, spec: { validations: [{ expression: 'true' }] } },
  ]);
  assert.equal(vap, { columns: ['Name:string', 'Validations:integer', 'ParamKind:string', 'Age:string'], rows: [['limits', 2, 'v1/ConfigMap', AGE], ['plain', 1, '<unset>', AGE]] });
  const vapb = await table('ValidatingAdmissionPolicyBinding', [
    { metadata: { name: 'a' }, spec: { policyName: 'limits', paramRef: { name: 'cfg', namespace: 'tools' } } },
    { metadata: { name: 'b' }, spec: { policyName: 'limits', paramRef: { name: 'cfg' } } },
    { metadata: { name: 'c' }, spec: { policyName: 'limits', paramRef: { selector: { matchLabels: { env: 'test', app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] } } } },
    { metadata: { name: 'd' }, spec: { policyName: 'plain' } },
  ]);
  assert.equal(vapb, {
    columns: ['Name:string', 'PolicyName:string', 'ParamRef:string', 'Age:string'],
    rows: [
      ['a', 'limits', 'tools/cfg', AGE], ['b', 'limits', '*/cfg', AGE],
      ['c', 'limits', '&LabelSelector{MatchLabels:map[string]string{app: x,env: test,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[a b],},},}', AGE],
      ['d', 'plain', '<unset>', AGE],
    ],
  });
});

test('flow control: FlowSchemas in matching precedence order, MISSINGPL from Dangling; priority levels with v1 defaults', async () => {
  const fs = await table('FlowSchema', [
    { metadata: { name: 'z-first' }, spec: { priorityLevelConfiguration: { name: 'workload-low' }, matchingPrecedence: 500, distinguisherMethod: { type: 'ByUser' } }, status: { conditions: [{ type: 'Dangling', status: 'False' }] } },
    { metadata: { name: 'a-default' }, spec: { priorityLevelConfiguration: { name: 'global-default' } } },
  ]);
  assert.equal(fs, {
    columns: ['Name:string', 'PriorityLevel:string', 'MatchingPrecedence:string', 'DistinguisherMethod:string', 'Age:string', 'MissingPL:string'],
    rows: [['z-first', 'workload-low', 500, 'ByUser', AGE, 'False'], ['a-default', 'global-default', 1000, '<none>', AGE, '?']],
  });
  const pl = await table('PriorityLevelConfiguration', [
    { metadata: { name: 'exempt' }, spec: { type: 'Exempt', exempt: {} } },
    { metadata: { name: 'queued' }, spec: { type: 'Limited', limited: { limitResponse: { type: 'Queue', queuing: { queues: 16 } } } } },
    { metadata: { name: 'reject' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 0, limitResponse: { type: 'Reject' } } } },
  ]);
  assert.equal(pl, {
    columns: ['Name:string', 'Type:string', 'NominalConcurrencyShares:string', 'Queues:string', 'HandSize:string', 'QueueLengthLimit:string', 'Age:string'],
    rows: [['exempt', 'Exempt', '<none>', '<none>', '<none>', '<none>', AGE], ['queued', 'Limited', 30, 16, 8, 50, AGE], ['reject', 'Limited', 0, '<none>', '<none>', '<none>', AGE]],
  });
});

test('storage: CSIDriver with storage/v1 defaults, CSINode, CSIStorageCapacity (no AGE), VolumeAttachment, VolumeAttributesClass', async () => {
  const drv = await table('CSIDriver', [
    { metadata: { name: 'plain.csi.example.com' }, spec: {} },
    { metadata: { name: 'eph.csi.example.com' }, spec: { attachRequired: false, podInfoOnMount: true, storageCapacity: true, requiresRepublish: true, tokenRequests: [{ audience: 'vault' }, { audience: 'gcp' }], volumeLifecycleModes: ['Persistent', 'Ephemeral'] } },
  ]);
  assert.equal(drv, {
    columns: ['Name:string', 'AttachRequired:boolean', 'PodInfoOnMount:boolean', 'StorageCapacity:boolean', 'TokenRequests:string', 'RequiresRepublish:boolean', 'Modes:string', 'Age:string'],
    rows: [['eph.csi.example.com', false, true, true, 'vault,gcp', true, 'Persistent,Ephemeral', AGE], ['plain.csi.example.com', true, false, false, '<unset>', false, 'Persistent', AGE]],
  });
  assert.equal(await table('CSINode', [{ metadata: { name: 'n1' }, spec: { drivers: [{ name: 'a', nodeID: 'n1' }, { name: 'b', nodeID: 'n1' }] } }]),
    { columns: ['Name:string', 'Drivers:integer', 'Age:string'], rows: [['n1', 2, AGE]] });
  assert.equal(await table('CSIStorageCapacity', [{ metadata: { name: 'cap' }, storageClassName: 'fast', capacity: '10Gi' }, { metadata: { name: 'none' }, storageClassName: 'fast' }]),
    { columns: ['Name:string', 'StorageClassName:string', 'Capacity:string'], rows: [['cap', 'fast', '10Gi'], ['none', 'fast', '<unset>']] });
  const va = await table('VolumeAttachment', [{ metadata: { name: 'va' }, spec: { attacher: 'csi.example.com', nodeName: 'n1', source: { persistentVolumeName: 'pv-1' } }, status: { attached: true } }]);
  assert.equal(va, { columns: ['Name:string', 'Attacher:string', 'PV:string', 'Node:string', 'Attached:boolean', 'Age:string'], rows: [['va', 'csi.example.com', 'pv-1', 'n1', true, AGE]] });
  const vac = await table('VolumeAttributesClass', [
    { metadata: { name: 'gold', annotations: { 'volumeattributesclass.alpha.kubernetes.io/is-default-class': 'true' } }, driverName: 'csi.example.com' },
    { metadata: { name: 'silver' }, driverName: 'csi.example.com' },
  ]);
  assert.equal(vac, { columns: ['Name:string', 'DriverName:string', 'Age:string'], rows: [['gold (default)', 'csi.example.com', AGE], ['silver', 'csi.example.com', AGE]] });
});

test('networking: ServiceCIDR; IPAddress defines two columns and prints the age as a third cell, as 1.32 does', async () => {
  assert.equal(await table('ServiceCIDR', [{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/12', 'fd00::/108'] } }]),
    { columns: ['Name:string', 'CIDRs:string', 'Age:string'], rows: [['kubernetes', '10.96.0.0/12,fd00::/108', AGE]] });
  const ip = await table('IPAddress', [
    { metadata: { name: '10.96.0.1' }, spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'kubernetes' } } },
    { metadata: { name: '10.96.0.2' }, spec: { parentRef: { group: 'Gateway.networking.k8s.io', resource: 'Gateways', name: 'gw' } } },
  ]);
  assert.equal(ip, { columns: ['Name:string', 'ParentRef:string'], rows: [['10.96.0.1', 'services/default/kubernetes', AGE], ['10.96.0.2', 'gateways.gateway.networking.k8s.io/gw', AGE]] });
});

test('resource.k8s.io: DeviceClass, ResourceClaim state, ResourceClaimTemplate, ResourceSlice', async () => {
  assert.equal(await table('DeviceClass', [{ metadata: { name: 'gpu' }, spec: {} }]), { columns: ['Name:string', 'Age:string'], rows: [['gpu', AGE]] });
  const claims = await table('ResourceClaim', [
    { metadata: { name: 'a-pending' }, spec: {} },
    { metadata: { name: 'b-allocated' }, spec: {}, status: { allocation: { devices: { results: [] } } } },
    { metadata: { name: 'c-reserved' }, spec: {}, status: { allocation: { devices: { results: [] } }, reservedFor: [{ resource: 'pods', name: 'p', uid: 'u' }] } },
  ]);
  assert.equal(claims, { columns: ['Name:string', 'State:string', 'Age:string'], rows: [['a-pending', 'pending', AGE], ['b-allocated', 'allocated', AGE], ['c-reserved', 'allocated,reserved', AGE]] });
  assert.equal(await table('ResourceClaimTemplate', [{ metadata: { name: 't' }, spec: { spec: {} } }]), { columns: ['Name:string', 'Age:string'], rows: [['t', AGE]] });
  assert.equal(await table('ResourceSlice', [{ metadata: { name: 's' }, spec: { nodeName: 'n1', driver: 'gpu.example.com', pool: { name: 'n1', generation: 1, resourceSliceCount: 1 } } }]),
    { columns: ['Name:string', 'Node:string', 'Driver:string', 'Pool:string', 'Age:string'], rows: [['s', 'n1', 'gpu.example.com', 'n1', AGE]] });
});

test('APIService (kube-aggregator): SERVICE Local or namespace/name; AVAILABLE True, False (Reason) or Unknown', async () => {
  // Served with the status kube-aggregator would give them (control-plane.test.ts), beside the Local ones.
  const svc = await table('APIService', [
    { metadata: { name: 'v1.apps' }, spec: { group: 'apps', version: 'v1', groupPriorityMinimum: 17800, versionPriority: 15 }, status: { conditions: [{ type: 'Available', status: 'True' }] } },
    { metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { group: 'metrics.k8s.io', version: 'v1beta1', service: { namespace: 'kube-system', name: 'metrics-server' }, groupPriorityMinimum: 100, versionPriority: 100 },
      status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }] } },
    { metadata: { name: 'v1.example.com' }, spec: { group: 'example.com', version: 'v1', service: { namespace: 'x', name: 'y' }, groupPriorityMinimum: 1, versionPriority: 1 } },
  ]);
  const names = ['v1.apps', 'v1.example.com', 'v1beta1.metrics.k8s.io'];
  assert.equal({ ...svc, rows: svc.rows.filter((r: unknown[]) => names.includes(r[0] as string)) }, {
    columns: ['Name:string', 'Service:string', 'Available:string', 'Age:string'],
    rows: [['v1.apps', 'Local', 'True', AGE], ['v1.example.com', 'x/y', 'False (ServiceNotFound)', AGE], ['v1beta1.metrics.k8s.io', 'kube-system/metrics-server', 'False (ServiceNotFound)', AGE]],
  });
  const unknown = toTable('APIService', [{ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1.x' }, spec: { service: { namespace: 'a', name: 'b' } } }], '');
  assert.equal(unknown.rows[0].cells.slice(0, 3), ['v1.x', 'a/b', 'Unknown']);
});

test('Events: object without a name, source from the reporting controller, series count and time, message trimmed', async () => {
  const ev = await table('Event', [
    { metadata: { name: 'a' }, involvedObject: { kind: 'Node', name: 'n1' }, reason: 'Ready', type: 'Normal', message: ' up \n', source: { component: 'kubelet', host: 'n1' }, firstTimestamp: CREATED.toISOString(), lastTimestamp: CREATED.toISOString(), count: 3 },
    { metadata: { name: 'b' }, involvedObject: { kind: 'Cluster' }, reason: 'X', type: 'Warning', message: 'm', eventTime: CREATED.toISOString(), reportingController: 'ctl', reportingInstance: 'ctl-1', series: { count: 7, lastObservedTime: CREATED.toISOString() } },
  ]);
  assert.equal(ev.columns, ['Last Seen:string', 'Type:string', 'Reason:string', 'Object:string', 'Subobject:string:wide', 'Source:string:wide', 'Message:string', 'First Seen:string:wide', 'Count:string:wide', 'Name:string:wide']);
  assert.equal(ev.rows, [[AGE, 'Normal', 'Ready', 'node/n1', '', 'kubelet, n1', 'up', AGE, 3, 'a'], [AGE, 'Warning', 'X', 'cluster', '', 'ctl, ctl-1', 'm', AGE, 7, 'b']]);
});

test('metrics.k8s.io as metrics-server prints it: NAME, cpu, memory (summed over a pod\'s containers, canonical), WINDOW', async () => {
  await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as KubeObject);
  const uids: string[] = [];
  for (const name of ['api', 'worker']) {
    const p = await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] } } as KubeObject);
    await store.updateStatus('Pod', 'default', name, { phase: 'Running' });
    uids.push(p.metadata.uid!);
  }
  await store.setMeta(usageKey('n1'), {
    timestamp: CREATED.toISOString(), windowSeconds: 15, containers: [
      { podUID: uids[0], container: 'a', cpuNanoCores: 250_000_000, memoryBytes: 3 * 2 ** 20 },
      { podUID: uids[0], container: 'b', cpuNanoCores: 1_250_000_000, memoryBytes: 2 ** 20 },
      { podUID: uids[1], container: 'a', cpuNanoCores: 123_456_789, memoryBytes: 1536 * 1024 },
    ],
  });
  const metrics = async (resource: string) => {
    const res = await fetch(`${api.url}/apis/metrics.k8s.io/v1beta1/${resource}`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    const t = (await res.json()) as any;
    return { columns: t.columnDefinitions.map((c: any) => `${c.name}:${c.format}`), rows: t.rows.map((r: any) => r.cells), kinds: t.rows.map((r: any) => r.object.kind) };
  };
  const columns = ['Name:name', 'cpu:quantity', 'memory:quantity', 'Window:duration'];
  assert.equal(await metrics('nodes'), { columns, rows: [['n1', '1623456789n', '5632Ki', '15s']], kinds: ['PartialObjectMetadata'] });
  assert.equal(await metrics('namespaces/default/pods'), { columns, rows: [['api', '1500m', '4Mi', '15s'], ['worker', '123456789n', '1536Ki', '15s']], kinds: ['PartialObjectMetadata', 'PartialObjectMetadata'] });
  assert.equal(await metrics('namespaces/other/pods'), { columns: [], rows: [], kinds: [] });
});

test.run();
