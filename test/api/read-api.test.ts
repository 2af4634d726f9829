// The read API's Kubernetes fidelity over real HTTP: field selectors, pagination, tables, subresources, discovery,
// derived EndpointSlices, self-reviews, OpenAPI and the refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';

let dir: string, store: Store, api: ApiServer;
const get = async (p: string, headers?: Record<string, string>) => {
  const res = await fetch(api.url + p, { headers });
  const text = await res.text();
  let body: any;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, body, text, headers: res.headers };
};
const post = async (p: string, body: unknown) => {
  const res = await fetch(api.url + p, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as any };
};
const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
const names = (r: { body: any }) => r.body.items.map((o: any) => o.metadata.name);

const pod = (name: string, phase: string, nodeName?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'x' }], ...(nodeName ? { nodeName } : {}), restartPolicy: 'Always' },
});

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-read-api-'));
  store = await openStore(dir);
  for (const [name, phase, node] of [['p1', 'Running', 'n1'], ['p2', 'Pending', undefined], ['p3', 'Running', 'n2'], ['p4', 'Running', 'n1']] as const) {
    await store.create(pod(name, phase, node));
    await store.updateStatus('Pod', 'default', name, { phase, ...(phase === 'Running' ? { podIP: `127.1.0.${name.slice(1)}` } : {}) });
  }
  await store.recordEvent({ kind: 'Pod', namespace: 'default', name: 'p1', uid: 'u1' }, 'Normal', 'Scheduled', 'assigned p1');
  await store.recordEvent({ kind: 'Pod', namespace: 'default', name: 'p2', uid: 'u2' }, 'Warning', 'FailedScheduling', 'no node');
  await store.create({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] },
      template: { metadata: { labels: { app: 'web', tier: 'a' } }, spec: { containers: [{ name: 'web', image: 'git:apps/web@1' }, { name: 'side', image: 'busybox' }] } } },
  });
  await store.updateStatus('Deployment', 'default', 'web', { replicas: 3, readyReplicas: 2 });
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { tier: 'a', app: 'web' }, ports: [{ port: 80 }], clusterIP: '127.2.0.1' } });
  await store.create({
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '127.1.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p1', namespace: 'default' } }], notReadyAddresses: [{ ip: '127.1.0.3' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
  });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', continueTtlMs: 300 });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('fieldSelector: per-kind fields, =, ==, !=, comma-joined; unsupported labels are 400 as kube-apiserver says', async () => {
  assert.equal(names(await get('/api/v1/pods?fieldSelector=status.phase%3DPending')), ['p2']);
  assert.equal(names(await get('/api/v1/pods?fieldSelector=status.phase%3D%3DRunning,spec.nodeName%3Dn1')), ['p1', 'p4']);
  assert.equal(names(await get('/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName!%3Dn1')), ['p2', 'p3']);
  assert.equal(names(await get('/api/v1/pods?fieldSelector=metadata.name%3Dp3')), ['p3']);
  assert.equal(names(await get('/api/v1/pods?fieldSelector=status.podIP%3D127.1.0.4')), ['p4']);
  // Unset in the manifests, as a cluster stores them: the default scheduler and the default service account.
  assert.equal(names(await get('/api/v1/pods?fieldSelector=spec.schedulerName%3Ddefault-scheduler,spec.serviceAccountName%3Ddefault')), ['p1', 'p2', 'p3', 'p4']);
  const ev = await get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dp2,involvedObject.kind%3DPod');
  assert.equal(ev.body.items.map((e: any) => e.reason), ['FailedScheduling']);
  assert.equal((await get('/api/v1/events?fieldSelector=type%3DNormal,source%3Dconvergit')).body.items.map((e: any) => e.reason), ['Scheduled']);
  const bad = await get('/api/v1/pods?fieldSelector=spec.containers%3Dx');
  assert.is(bad.status, 400);
  assert.equal([bad.body.kind, bad.body.reason, bad.body.message], ['Status', 'BadRequest', 'field label not supported: spec.containers']);
  // Fields are per kind: status.phase is a Pod's, not a ConfigMap's.
  assert.is((await get('/api/v1/configmaps?fieldSelector=status.phase%3DRunning')).body.message, 'field label not supported: status.phase');
  assert.is((await get('/api/v1/pods?fieldSelector=nonsense')).status, 400);
});

test('limit and continue: consistent pages; garbage is 400; an expired token is 410 with a token to go on', async () => {
  const first = await get('/api/v1/pods?limit=3');
  assert.equal(names(first), ['p1', 'p2', 'p3']);
  assert.is(first.body.metadata.remainingItemCount, 1);
  const token = first.body.metadata.continue;
  assert.type(token, 'string');
  await store.create(pod('p0', 'Pending')); // after the first page: not in this list's later pages
  await store.create(pod('p5', 'Pending'));
  const second = await get(`/api/v1/pods?limit=3&continue=${encodeURIComponent(token)}`);
  assert.equal(names(second), ['p4']);
  assert.is(second.body.metadata.continue, undefined);
  assert.is(second.body.metadata.resourceVersion, first.body.metadata.resourceVersion, 'one list, one version');
  const garbage = await get('/api/v1/pods?limit=3&continue=garbage');
  assert.equal([garbage.status, garbage.body.reason], [400, 'BadRequest']);
  const again = await get('/api/v1/pods?limit=2');
  await new Promise((r) => setTimeout(r, 400)); // continueTtlMs is 300: the list's snapshot is gone
  const expired = await get(`/api/v1/pods?limit=2&continue=${encodeURIComponent(again.body.metadata.continue)}`);
  assert.equal([expired.status, expired.body.kind, expired.body.reason, expired.body.code], [410, 'Status', 'Expired', 410]);
  assert.match(expired.body.message, /^The provided continue parameter is too old to display a consistent list result/);
  const rest = await get(`/api/v1/pods?continue=${encodeURIComponent(expired.body.metadata.continue)}`);
  assert.equal(names(rest), ['p2', 'p3', 'p4', 'p5'], 'the inconsistent continuation reads the current state after the last key');
  await store.delete('Pod', 'default', 'p0');
  await store.delete('Pod', 'default', 'p5');
});

test('tables: includeObject Object, Metadata (default) and None; wide columns as Kubernetes defines them', async () => {
  const full = await get('/apis/apps/v1/namespaces/default/deployments?includeObject=Object', TABLE);
  assert.is(full.body.rows[0].object.kind, 'Deployment');
  assert.is(full.body.rows[0].object.spec.replicas, 3);
  assert.is((await get('/apis/apps/v1/namespaces/default/deployments', TABLE)).body.rows[0].object.kind, 'PartialObjectMetadata');
  assert.is((await get('/apis/apps/v1/namespaces/default/deployments?includeObject=None', TABLE)).body.rows[0].object, undefined);
  assert.is((await get('/apis/apps/v1/namespaces/default/deployments?includeObject=All', TABLE)).status, 400);
  const cols = full.body.columnDefinitions.map((c: any) => `${c.name}:${c.priority}`);
  assert.equal(cols, ['Name:0', 'Ready:0', 'Up-to-date:0', 'Available:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1']);
  assert.equal(full.body.rows[0].cells.slice(5), ['web,side', 'git:apps/web@1,busybox', 'app=web,tier in (a,b)']);
  const svc = await get('/api/v1/namespaces/default/services', TABLE);
  assert.is(svc.body.columnDefinitions.at(-1).name, 'Selector');
  assert.is(svc.body.rows[0].cells.at(-1), 'app=web,tier=a');
  const pods = await get('/api/v1/namespaces/default/pods', TABLE);
  assert.equal(pods.body.columnDefinitions.slice(-2).map((c: any) => c.name), ['Nominated Node', 'Readiness Gates']);
});

test('tables for the kinds kubectl has printers for beyond workloads: PDB, IngressClass, bindings, NetworkPolicy', async () => {
  await store.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } });
  await store.updateStatus('PodDisruptionBudget', 'default', 'web', { disruptionsAllowed: 1 });
  await store.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'convergit' }, spec: { controller: 'convergit.dev/ingress' } });
  await store.create({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'all', namespace: 'default' }, spec: { podSelector: {} } });
  await store.create({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'readers', namespace: 'default' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'ann' }, { kind: 'User', name: 'bob' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' }],
  });
  const table = async (p: string) => {
    const t = (await get(p, TABLE)).body;
    return { cols: t.columnDefinitions.map((c: any) => c.name), cells: t.rows[0].cells.map((v: unknown) => (/^\d+[smhd]$/.test(String(v)) ? 'AGE' : v)) };
  };
  assert.equal(await table('/apis/policy/v1/namespaces/default/poddisruptionbudgets'), { cols: ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age'], cells: ['web', '50%', 'N/A', 1, 'AGE'] });
  assert.equal(await table('/apis/networking.k8s.io/v1/ingressclasses'), { cols: ['Name', 'Controller', 'Parameters', 'Age'], cells: ['convergit', 'convergit.dev/ingress', '<none>', 'AGE'] });
  assert.equal(await table('/apis/networking.k8s.io/v1/namespaces/default/networkpolicies'), { cols: ['Name', 'Pod-Selector', 'Age'], cells: ['all', '<none>', 'AGE'] });
  assert.equal(await table('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings'), {
    cols: ['Name', 'Role', 'Age', 'Users', 'Groups', 'ServiceAccounts'], cells: ['readers', 'ClusterRole/view', 'AGE', 'ann, bob', 'devs', 'tools/ci'],
  });
});

test('status and scale subresources (GET); other subresources 404', async () => {
  const status = await get('/apis/apps/v1/namespaces/default/deployments/web/status');
  assert.equal([status.status, status.body.kind, status.body.status.readyReplicas], [200, 'Deployment', 2]);
  const scale = await get('/apis/apps/v1/namespaces/default/deployments/web/scale');
  assert.equal(scale.body, {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'default', uid: scale.body.metadata.uid, resourceVersion: scale.body.metadata.resourceVersion, creationTimestamp: scale.body.metadata.creationTimestamp },
    spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=web,tier in (a,b)' },
  });
  assert.is((await get('/api/v1/namespaces/default/configmaps/x/scale')).status, 404);
  assert.is((await get('/apis/apps/v1/namespaces/default/deployments/nope/scale')).status, 404);
});

test('discovery: categories, subresources, /apis/<group> and /apis/<group>/<version>', async () => {
  const core = (await get('/api/v1')).body.resources;
  const byName = (n: string) => core.find((r: any) => r.name === n);
  assert.equal(byName('pods').categories, ['all']);
  assert.equal(byName('services').categories, ['all']);
  assert.is(byName('configmaps').categories, undefined);
  assert.ok(byName('pods/status') && byName('pods/log'));
  const apps = await get('/apis/apps');
  assert.equal([apps.body.kind, apps.body.name, apps.body.preferredVersion.groupVersion], ['APIGroup', 'apps', 'apps/v1']);
  const appsV1 = (await get('/apis/apps/v1')).body.resources;
  assert.equal(appsV1.find((r: any) => r.name === 'deployments/scale').kind, 'Scale');
  assert.ok((await get('/apis')).body.groups.some((g: any) => g.name === 'discovery.k8s.io'));
  assert.ok((await get('/apis/discovery.k8s.io/v1')).body.resources.some((r: any) => r.name === 'endpointslices'));
  assert.ok((await get('/apis/authorization.k8s.io/v1')).body.resources.some((r: any) => r.name === 'selfsubjectaccessreviews' && r.verbs.includes('create')));
  assert.is((await get('/apis/nope')).status, 404);
  assert.is((await get('/apis/apps/v2')).status, 404);
});

test('aggregated discovery (apidiscovery.k8s.io/v2) when asked for, as kubectl 1.32 does first', async () => {
  const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  const apis = await get('/apis', { accept });
  assert.is(apis.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  assert.is(apis.body.kind, 'APIGroupDiscoveryList');
  const apps = apis.body.items.find((g: any) => g.metadata.name === 'apps');
  const deployments = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
  assert.equal([deployments.scope, deployments.responseKind, deployments.categories, deployments.shortNames], ['Namespaced', { group: 'apps', version: 'v1', kind: 'Deployment' }, ['all'], ['deploy']]);
  assert.equal(deployments.subresources.map((x: any) => [x.subresource, x.responseKind.kind]), [['status', 'Deployment'], ['scale', 'Scale']]);
  const core = (await get('/api', { accept })).body.items[0];
  assert.equal(core.metadata, {});
  assert.ok(core.versions[0].resources.some((r: any) => r.resource === 'pods' && r.subresources.some((x: any) => x.subresource === 'log')));
  assert.is((await get('/apis')).body.kind, 'APIGroupList', 'the legacy document otherwise');
});

test('EndpointSlices are derived from Endpoints, filterable by the service-name label', async () => {
  const r = await get('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb');
  assert.is(r.body.kind, 'EndpointSliceList');
  const [slice] = r.body.items;
  assert.equal([slice.kind, slice.addressType, slice.metadata.labels['kubernetes.io/service-name']], ['EndpointSlice', 'IPv4', 'web']);
  assert.equal(slice.endpoints.map((e: any) => [e.addresses[0], e.conditions.ready]), [['127.1.0.1', true], ['127.1.0.3', false]]);
  assert.equal(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.is((await get(`/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/${slice.metadata.name}`)).body.metadata.uid, slice.metadata.uid);
  assert.equal((await get('/apis/discovery.k8s.io/v1/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dother')).body.items, []);
});

test('self-reviews answer without writing: reads allowed, writes denied with the way to change things', async () => {
  const before = await store.resourceVersion();
  const read = await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } } });
  assert.equal([read.status, read.body.kind, read.body.status.allowed], [201, 'SelfSubjectAccessReview', true]);
  const write = await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'delete', resource: 'pods' } } });
  assert.is(write.body.status.allowed, false);
  assert.match(write.body.status.reason, /committing to \/r \(branch main\)/);
  const rules = await post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'default' } });
  assert.equal(rules.body.status.resourceRules[0], { verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*'] });
  const who = await post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  assert.is(who.body.status.userInfo.username, 'system:anonymous');
  assert.is((await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: {} })).status, 400);
  assert.is(await store.resourceVersion(), before, 'nothing written');
});

test('reviews about someone else (SubjectAccessReview, LocalSubjectAccessReview, TokenReview) answer as the self-reviews do; Binding is listed, its POST refused', async () => {
  const before = await store.resourceVersion();
  const sar = (verb: string) => post('/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'jane', resourceAttributes: { verb, resource: 'pods', namespace: 'default' } } });
  assert.equal([(await sar('get')).status, (await sar('get')).body.status.allowed, (await sar('create')).body.status.allowed], [201, true, false]);
  const noUser = await post('/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } });
  assert.equal([noUser.status, noUser.body.message], [400, 'SubjectAccessReview: at least one of spec.user or spec.groups must be specified']);
  const local = (ns: string) => post('/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews', { spec: { groups: ['dev'], resourceAttributes: { verb: 'list', resource: 'pods', namespace: ns } } });
  const ok = await local('default');
  assert.equal([ok.status, ok.body.kind, ok.body.metadata.namespace, ok.body.status.allowed], [201, 'LocalSubjectAccessReview', 'default', true]);
  assert.is((await local('other')).status, 400, 'the attributes\' namespace must be the request\'s');
  const token = await post('/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: 'not-the-token' } });
  assert.equal([token.status, token.body.status.authenticated], [201, false]);
  assert.is((await post('/apis/authentication.k8s.io/v1/tokenreviews', { spec: {} })).status, 400);
  const v1 = await get('/api/v1');
  assert.equal(v1.body.resources.find((r: any) => r.name === 'bindings'), { name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] });
  const authz = await get('/apis/authorization.k8s.io/v1');
  assert.equal(authz.body.resources.map((r: any) => `${r.name}:${r.namespaced}`).sort(),
    ['localsubjectaccessreviews:true', 'selfsubjectaccessreviews:false', 'selfsubjectrulesreviews:false', 'subjectaccessreviews:false']);
  const binding = await post('/api/v1/namespaces/default/bindings', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'n' } });
  assert.is(binding.status, 405);
  assert.is(await store.resourceVersion(), before, 'nothing written');
});

test('OpenAPI: v2 as JSON (406 when only protobuf is acceptable), v3 per group-version with the PATCH fieldValidation parameter', async () => {
  const v2 = await get('/openapi/v2', { accept: 'application/json' });
  assert.is(v2.body.swagger, '2.0');
  assert.ok(v2.body.definitions['io.k8s.api.apps.v1.Deployment']);
  assert.ok(v2.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']);
  assert.ok(v2.body.paths['/apis/storage.k8s.io/v1/storageclasses'], 'kept kinds are served');
  assert.is(v2.body.paths['/api/v1/namespaces/{namespace}/bindings'], undefined, 'only what is served');
  const pb = await get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  assert.equal([pb.status, pb.body.reason], [406, 'NotAcceptable']);
  const index = (await get('/openapi/v3')).body.paths;
  assert.match(index['apis/apps/v1'].serverRelativeURL, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  const apps = await get(index['apis/apps/v1'].serverRelativeURL);
  assert.is(apps.body.openapi, '3.0.0');
  const patch = apps.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'));
  assert.equal(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
  const dep = apps.body.components.schemas['io.k8s.api.apps.v1.Deployment'];
  assert.is(dep.properties.spec.$ref, '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec');
  assert.ok(apps.body.components.schemas['io.k8s.api.core.v1.PodSpec'], 'referenced schemas come along');
  assert.is((await get('/openapi/v3/apis/storage.k8s.io/v1')).status, 200, 'kept kinds are served');
  assert.is((await get('/openapi/v3/apis/no.such.group/v1')).status, 404);
});

test('refusals: exec, attach and port-forward say what to do instead; cordon is refused at its first read', async () => {
  const exec = await post('/api/v1/namespaces/default/pods/p1/exec?command=ls', {});
  assert.is(exec.status, 405);
  assert.match(exec.body.message, /does not exec into containers \(kubectl exec, and kubectl cp, which uses exec\).*kubectl logs/);
  const attach = await post('/api/v1/namespaces/default/pods/p1/attach', {});
  assert.is(attach.status, 405);
  assert.match(attach.body.message, /^convergit does not attach to containers \(kubectl attach\): read what a container prints with `kubectl logs <pod>`/);
  const pf = await post('/api/v1/namespaces/default/pods/p1/portforward', {});
  assert.match(pf.body.message, /Service of type NodePort or LoadBalancer/);
  const cordon = await get('/api/v1/nodes/n1', { 'kubectl-command': 'kubectl cordon' });
  assert.is(cordon.status, 405);
  assert.match(cordon.body.message, /kubectl cordon would change a Node/);
  assert.is((await get('/api/v1/nodes/n1')).status, 404, 'an ordinary read is answered as usual');
});

test.run();
