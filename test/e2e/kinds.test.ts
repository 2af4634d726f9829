// End to end: a commit of an ordinary application folder (a Deployment next to a ServiceAccount, a NetworkPolicy
// and an Ingress of another controller's class) applies as a whole, with one warning per kept kind; kubectl lists every kept kind; removing
// them prunes them; a refused kind refuses the commit and the last good revision stays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const run = promisify(execFile);

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;
const extras = `apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow-http}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: 80}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
spec:
  ingressClassName: nginx
  rules:
    - host: web.example
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: web-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: example.com/fast
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const status = async () => (await serve.get('/status')).body;
const settled = (sha: string) => until(async () => { const s = await status(); return s.lastAttemptedRevision === sha && (s.sync === 'Synced' || s.sync === 'Failed') && s; }, `revision ${sha.slice(0, 7)} handled`);
// Asynchronous: a blocked event loop would leave the next request on a stale keep-alive socket.
const kubectl = async (...args: string[]) => (await run('kubectl', ['--server', serve.url, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } })).stdout;

test.before(async () => {
  repo = makeRepo({ 'deploy/app.yaml': app, 'deploy/extras.yaml': extras });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-kinds-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--nodes', '0']);
});

test.after(async () => {
  await serve?.stop();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('kept kinds apply next to a Deployment, with one warning per kind', async () => {
  const s = await settled(repo.git('rev-parse', 'HEAD'));
  assert.is(s.sync, 'Synced', JSON.stringify(s.errors));
  const kept = s.warnings.filter((w: any) => /is kept, not run/.test(w.message)).map((w: any) => w.kind).sort();
  assert.equal(kept, ['ClusterRole', 'Ingress', 'NetworkPolicy', 'ServiceAccount']);
  const modes = Object.fromEntries(s.objects.map((o: any) => [o.kind, o.mode]));
  assert.equal([modes.ServiceAccount, modes.Deployment], ['kept', 'run']);
  assert.match(s.warnings.find((w: any) => w.kind === 'Ingress').message, 'its IngressClass "nginx" does not exist', 'an Ingress of a class convergit does not run');
  const ing = (await serve.get('/apis/networking.k8s.io/v1/namespaces/default/ingresses/web')).body;
  assert.is(ing.spec.rules[0].host, 'web.example');
  assert.is(ing.metadata.annotations, undefined, 'an empty annotations: key is no annotations');
});

test('kubectl get lists every kept kind, by plural and by short name', async () => {
  const out = await kubectl('get', 'serviceaccounts,netpol,ing,clusterroles,sc', '-o', 'name');
  for (const name of ['serviceaccount/web', 'networkpolicy.networking.k8s.io/web-allow-http', 'ingress.networking.k8s.io/web',
    'clusterrole.rbac.authorization.k8s.io/web-reader', 'storageclass.storage.k8s.io/fast']) assert.ok(out.includes(name), `${name} in\n${out}`);
});

const admin = `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec: {hard: {pods: "10"}}
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: x.csi.example.com}
spec: {}
---
apiVersion: networking.k8s.io/v1beta1
kind: IPAddress
metadata: {name: 10.96.0.10}
spec: {parentRef: {group: "", resource: services, namespace: default, name: web}}
`;

test('kubectl get prints Kubernetes 1.32\'s columns for administration kinds', async () => {
  repo.write('deploy/admin.yaml', admin);
  const s = await settled(repo.commit('add administration kinds'));
  assert.is(s.sync, 'Synced', JSON.stringify(s.errors));
  const rows = async (...args: string[]) => (await kubectl('get', ...args)).trim().split('\n')
    .map((l) => l.trim().split(/\s{2,}/).map((c) => (/^\d+(s|m\d*s?)$/.test(c) ? 'AGE' : /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(c) ? 'RFC3339' : c)));
  assert.equal(await rows('priorityclass', 'high', '-o', 'wide'), [['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY'], ['high', '1000', 'false', 'AGE', 'PreemptLowerPriority']]);
  assert.equal(await rows('quota'), [['NAME', 'AGE', 'REQUEST', 'LIMIT'], ['compute', 'AGE']]);
  assert.equal(await rows('csidriver'), [['NAME', 'ATTACHREQUIRED', 'PODINFOONMOUNT', 'STORAGECAPACITY', 'TOKENREQUESTS', 'REQUIRESREPUBLISH', 'MODES', 'AGE'],
    ['x.csi.example.com', 'true', 'false', 'false', '<unset>', 'false', 'Persistent', 'AGE']]);
  assert.equal(await rows('clusterrole', 'web-reader'), [['NAME', 'CREATED AT'], ['web-reader', 'RFC3339']]);
  // 1.32 defines two columns for an IPAddress and sends its age as a third cell, which kubectl drops.
  assert.equal(await rows('ipaddresses'), [['NAME', 'PARENTREF'], ['10.96.0.10', 'services/default/web']]);
  repo.remove('deploy/admin.yaml');
  assert.is((await settled(repo.commit('remove them'))).sync, 'Synced');
});

test('a refused kind refuses the whole commit, saying why; the last good revision stays', async () => {
  const before = (await status()).lastAppliedRevision;
  repo.write('deploy/binding.yaml', 'apiVersion: v1\nkind: Binding\nmetadata: {name: b}\ntarget: {kind: Node, name: node1}\n');
  const sha = repo.commit('commit a Binding');
  const s = await settled(sha);
  assert.is(s.sync, 'Failed');
  assert.match(s.errors[0].message, 'Binding cannot be committed');
  assert.is(s.lastAppliedRevision, before);
  repo.remove('deploy/binding.yaml');
  repo.commit('remove it');
});

test('removing kept objects from git prunes them', async () => {
  repo.remove('deploy/extras.yaml');
  const sha = repo.commit('drop extras');
  const s = await settled(sha);
  assert.is(s.sync, 'Synced');
  const list = (await serve.get('/api/v1/namespaces/default/serviceaccounts')).body;
  assert.equal(list.items, []);
  // Only the built-in default class is left.
  assert.equal((await serve.get('/apis/storage.k8s.io/v1/storageclasses')).body.items.map((c: any) => c.metadata.name), ['local-path']);
});

const crd = (modes: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, default: 1}
                mode: {type: string, enum: [${modes}]}
`;
const widget = (mode: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: blue}\nspec:\n  mode: ${mode}\n`;

test('CRD round trip: CRD and resources in one commit, served by plural and short name; a schema change; removal', async () => {
  repo.write('deploy/crd.yaml', crd('Fast, Slow'));
  repo.write('deploy/widget.yaml', widget('Fast'));
  let s = await settled(repo.commit('add widgets'));
  assert.is(s.sync, 'Synced', JSON.stringify(s.errors));
  const w = (await serve.get('/apis/example.com/v1/widgets/blue')).body;
  assert.equal([w.spec.mode, w.spec.size, w.metadata.namespace], ['Fast', 1, undefined], 'defaulted, cluster-scoped');
  assert.ok((await kubectl('get', 'wg', '-o', 'name')).includes('widget.example.com/blue'));
  assert.ok((await kubectl('get', 'widgets', '-o', 'name')).includes('widget.example.com/blue'));
  const established = await until(async () => {
    const c = (await serve.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).body;
    return c.status?.conditions?.find((x: any) => x.type === 'Established')?.status === 'True' && c;
  }, 'CRD established');
  assert.is(established.status.acceptedNames.kind, 'Widget');

  // The CRD narrows its enum in the same commit as a resource that no longer fits it: refused, with the position.
  repo.write('deploy/crd.yaml', crd('Fast'));
  repo.write('deploy/widget.yaml', widget('Slow'));
  s = await settled(repo.commit('narrow the enum, break the widget'));
  assert.is(s.sync, 'Failed');
  assert.equal(s.errors.map((e: any) => `${e.file}:${e.line} ${e.field}: ${e.message}`), ['deploy/widget.yaml:5 spec.mode: must be one of Fast']);

  // Removing the CRD while its resource stays in git would delete the resource: refused.
  repo.write('deploy/widget.yaml', widget('Fast'));
  repo.remove('deploy/crd.yaml');
  s = await settled(repo.commit('remove only the CRD'));
  assert.is(s.sync, 'Failed');
  assert.match(s.errors[0].message, 'its CustomResourceDefinition widgets.example.com is removed by this commit');

  // Both go: the resource is pruned before its CRD.
  repo.remove('deploy/widget.yaml');
  s = await settled(repo.commit('remove widgets'));
  assert.is(s.sync, 'Synced', JSON.stringify(s.errors));
  assert.is((await serve.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).body.items.length, 0);
});

test.run();
