// Health per object: every fixture under fixtures/health (the object first, then the live objects it looks at)
// with the status and message it must get, plus the registry's rules for unknown kinds and failing checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as yaml from 'js-yaml';
import type { KubeObject } from '../../src/model/object.ts';
import { assessHealth, HEALTH_CHECKS } from '../../src/health/registry.ts';
import { healthContext, type HealthStatus } from '../../src/health/types.ts';
import { isPodHealthy, podHealth, podReason } from '../../src/health/pod.ts';
import { owned } from '../../src/health/owned.ts';

const DIR = 'fixtures/health';
const load = (file: string) => (yaml.loadAll(readFileSync(`${DIR}/${file}`, 'utf8')) as KubeObject[]).filter(Boolean);
const assess = (file: string) => {
  const docs = load(file);
  return assessHealth(docs[0], healthContext(docs));
};

const CASES: Record<string, [HealthStatus, string]> = {
  'deployment-healthy.yaml': ['Healthy', 'Deployment web: 3/3 replicas available'],
  'deployment-paused.yaml': ['Suspended', 'Deployment web is paused'],
  'deployment-generation-stale.yaml': ['Progressing', 'Deployment web: waiting for the controller to observe generation 3 (observed 2)'],
  'deployment-progress-deadline.yaml': ['Degraded', 'Deployment web exceeded its progress deadline: 2/3 replicas available, rollout waiting on pod web-7d9f5-x2abc (Running, not ready)'],
  'deployment-replica-failure.yaml': ['Degraded', 'Deployment web: 0/2 replicas available, FailedCreate: store is read-only'],
  'deployment-rolling-update.yaml': ['Progressing', 'Deployment web: 3/3 replicas available, 1/3 updated, rollout waiting on pod web-7d9f5-q8zrt (ContainerCreating)'],
  'deployment-old-replicas.yaml': ['Progressing', 'Deployment web: 4/3 replicas available, 1 old replica pending termination'],
  'deployment-unavailable.yaml': ['Progressing', 'Deployment web: 2/3 replicas available, rollout waiting on pod web-7d9f5-x2abc (Running, not ready)'],
  'deployment-unschedulable.yaml': ['Progressing', 'Deployment web: 3/3 replicas available, 1/3 updated, rollout waiting on pod web-7d9f5-x2abc (Unschedulable: 0/1 nodes are available: 1 Insufficient memory.)'],
  // The degraded-pod rule: Degraded at once, not after the 600 s progress deadline.
  'deployment-crashloop.yaml': ['Degraded', 'Deployment web: 2/3 replicas available, rollout waiting on pod web-7d9f5-x2abc (CrashLoopBackOff)'],
  'deployment-image-pull.yaml': ['Degraded', 'Deployment web: 1/1 replicas available, rollout waiting on pod web-6f4c2-kq9wd (ImagePullBackOff)'],
  'deployment-newest-by-revision.yaml': ['Degraded', 'Deployment web: 1/1 replicas available, rollout waiting on pod web-7d9f5-x2abc (CrashLoopBackOff)'],
  // Only the newest ReplicaSet's pods count: an old one crash-looping does not make the fix Degraded.
  'deployment-old-rs-crashing.yaml': ['Progressing', 'Deployment web: 0/1 replicas available, 1 old replica pending termination, rollout waiting on pod web-7d9f5-q8zrt (ContainerCreating)'],

  'daemonset-rolling.yaml': ['Progressing', 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...'],
  'poddisruptionbudget-computed.yaml': ['Healthy', 'PodDisruptionBudget web: 2 healthy of 2 needed, 0 disruption(s) allowed'],
  'daemonset-healthy.yaml': ['Healthy', 'daemon set "agent": 3 of 3 pods available'],
  'replicaset-healthy.yaml': ['Healthy', 'ReplicaSet web-7d9f5: 1/1 replicas available'],
  'replicaset-progressing.yaml': ['Progressing', 'ReplicaSet web-7d9f5: 1/2 replicas available, waiting on pod web-7d9f5-q8zrt (ContainerCreating)'],
  'replicaset-generation-stale.yaml': ['Progressing', 'ReplicaSet web-7d9f5: waiting for the controller to observe generation 2 (observed 1)'],
  'replicaset-replica-failure.yaml': ['Degraded', 'ReplicaSet web-7d9f5: FailedCreate: store is read-only'],
  'replicaset-crashloop.yaml': ['Degraded', 'ReplicaSet web-7d9f5: 1/1 replicas available, waiting on pod web-7d9f5-x2abc (OOMKilled)'],

  'pod-running.yaml': ['Healthy', 'Pod web-7d9f5-b2kxq: Running, ready'],
  'pod-succeeded.yaml': ['Healthy', 'Pod migrate: Succeeded'],
  'pod-failed.yaml': ['Degraded', 'Pod migrate: container migrate terminated: Error (exit code 1)'],
  'pod-failed-message.yaml': ['Degraded', 'Pod batch: Evicted: The node was low on resource: memory.'],
  'pod-crashloop.yaml': ['Degraded', 'Pod web-7d9f5-x2abc: container web waiting: CrashLoopBackOff (back-off 40s restarting failed container=web pod=web-7d9f5-x2abc_default(p1)), last terminated: Error (exit code 1)'],
  'pod-image-pull-backoff.yaml': ['Degraded', 'Pod web-6f4c2-kq9wd: container web waiting: ImagePullBackOff (tree 000000 not found in the repository)'],
  'pod-err-image-pull.yaml': ['Degraded', 'Pod web-6f4c2-kq9wd: container web waiting: ErrImagePull (tree 000000 not found in the repository)'],
  'pod-create-container-config-error.yaml': ['Degraded', 'Pod web-7d9f5-x2abc: container web waiting: CreateContainerConfigError (configmap "web-config" not found)'],
  'pod-create-container-error.yaml': ['Degraded', 'Pod web-7d9f5-x2abc: container web waiting: CreateContainerError (cannot create log directory)'],
  'pod-invalid-image-name.yaml': ['Degraded', `Pod web-7d9f5-x2abc: container web waiting: InvalidImageName (couldn't parse image name "Not A Name")`],
  'pod-container-cannot-run.yaml': ['Degraded', 'Pod web-7d9f5-x2abc: container web terminated: ContainerCannotRun (spawn ./serve ENOENT) (exit code 127)'],
  'pod-running-restarted-not-ready.yaml': ['Degraded', 'Pod web-7d9f5-x2abc: container web not ready after 1 restart, last terminated: Error (exit code 1)'],
  'pod-unschedulable.yaml': ['Progressing', 'Pod web-7d9f5-x2abc: Unschedulable: 0/1 nodes are available: 1 Insufficient memory.'],
  'pod-pending.yaml': ['Progressing', 'Pod web-7d9f5-x2abc: Pending'],
  'pod-container-creating.yaml': ['Progressing', 'Pod web-7d9f5-q8zrt: container web waiting: ContainerCreating'],
  'pod-running-not-ready.yaml': ['Progressing', 'Pod web-7d9f5-x2abc: Running, not ready'],
  'pod-terminating.yaml': ['Progressing', 'Pod web-5c6b8-m4tq7 is terminating'],
  'pod-unknown.yaml': ['Unknown', 'Pod web-7d9f5-x2abc: phase Unknown: node node-1 stopped posting status'],

  'service-healthy.yaml': ['Healthy', 'Service web: ClusterIP, cluster IP 127.2.0.5'],
  'service-headless.yaml': ['Healthy', 'Service db: ClusterIP, headless'],
  'service-externalname.yaml': ['Healthy', 'Service search: ExternalName search.example.com'],
  'service-no-cluster-ip.yaml': ['Progressing', 'Service web: waiting for a cluster IP'],
  'service-nodeport.yaml': ['Healthy', 'Service web: NodePort, cluster IP 127.2.0.6'],
  'service-nodeport-pending.yaml': ['Progressing', 'Service web: waiting for a node port for port http'],
  'service-loadbalancer.yaml': ['Healthy', 'Service web: LoadBalancer, cluster IP 127.2.0.7'],
  'service-loadbalancer-pending.yaml': ['Progressing', 'Service web: waiting for a load balancer address'],

  'node-ready.yaml': ['Healthy', 'Node node-1: Ready'],
  'node-not-ready.yaml': ['Degraded', 'Node node-1: NotReady: KubeletNotReady: container runtime is down'],
  'node-unknown.yaml': ['Degraded', 'Node node-2: Unknown: NodeStatusUnknown: Kubelet stopped posting node status.'],
  'node-registering.yaml': ['Degraded', 'Node node-3: no Ready condition (the kubelet has not posted status)'],

  'namespace-active.yaml': ['Healthy', 'Namespace shop: Active'],
  'namespace-terminating.yaml': ['Progressing', 'Namespace shop is terminating'],
  'namespace-deleted.yaml': ['Progressing', 'Namespace shop is terminating'],

  'configmap.yaml': ['Healthy', 'ConfigMap web-config exists'],
  'secret.yaml': ['Healthy', 'Secret web-token exists'],
  'endpoints.yaml': ['Healthy', 'Endpoints web exists'],
  'endpointslice.yaml': ['Healthy', 'EndpointSlice external-1 exists'],
  'ingress-healthy.yaml': ['Healthy', 'Ingress web: served at 127.0.0.1'],
  'ingress-progressing.yaml': ['Progressing', 'Ingress web: waiting for an address'],
  'ingress-other-class.yaml': ['Unknown', 'Ingress web is kept, not run: its IngressClass "nginx" is for controller k8s.io/ingress-nginx, not convergit.dev/ingress'],
  'ingressclass.yaml': ['Healthy', 'IngressClass convergit exists'],
  'persistentvolumeclaim-bound.yaml': ['Healthy', 'PersistentVolumeClaim data is bound to pvc-1'],
  'persistentvolumeclaim-pending.yaml': ['Progressing', 'PersistentVolumeClaim data is waiting for a volume (Pending)'],
  'persistentvolumeclaim-lost.yaml': ['Degraded', 'PersistentVolumeClaim data has lost its volume pvc-1'],
  'persistentvolume-released.yaml': ['Healthy', 'PersistentVolume pvc-1 is Released'],
  'persistentvolume-failed.yaml': ['Degraded', 'PersistentVolume static failed: error getting deleter volume plugin for volume: no deletable volume plugin matched'],
  'storageclass.yaml': ['Healthy', 'StorageClass local-path exists'],
  'replicationcontroller-healthy.yaml': ['Healthy', 'ReplicationController legacy: 1/1 replicas available'],
  'customresourcedefinition-established.yaml': ['Healthy', 'CustomResourceDefinition widgets.example.com is established'],
  'statefulset-healthy.yaml': ['Healthy', 'StatefulSet db: partitioned roll out complete: 3 new pods have been updated...'],
  'statefulset-partition.yaml': ['Progressing', 'StatefulSet db: waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...'],
  'statefulset-rolling.yaml': ['Progressing', 'StatefulSet db: waiting for statefulset rolling update to complete 1 pods at revision db-6c8b7d9f4...'],
  'statefulset-ondelete.yaml': ['Healthy', 'StatefulSet db: statefulset has 2 ready pods'],
  'statefulset-generation-stale.yaml': ['Progressing', 'StatefulSet db: waiting for statefulset spec update to be observed...'],
  'statefulset-crashloop.yaml': ['Degraded', 'StatefulSet db: 1/3 pods ready, waiting on pod db-1 (CrashLoopBackOff)'],

  'job-complete.yaml': ['Healthy', 'Job migrate: Complete, 3/3 completions'],
  'job-failed.yaml': ['Degraded', 'Job migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit'],
  'job-failure-target.yaml': ['Degraded', 'Job report failed: DeadlineExceeded: Job was active longer than specified deadline'],
  // A failed pod within backoffLimit is replaced: the Job waits on the replacement, it is not Degraded.
  'job-running.yaml': ['Progressing', 'Job migrate: 1 active, 1/2 completions, 1 failed, waiting on pod migrate-q8zrt (ContainerCreating)'],
  'job-suspended.yaml': ['Suspended', 'Job migrate is suspended'],
  'job-success-criteria-met.yaml': ['Progressing', 'Job train: succeeded, waiting for its pods to stop (0 active, 1/3 completions)'],

  'cronjob-never-scheduled.yaml': ['Healthy', 'CronJob backup has not been scheduled yet'],
  'cronjob-suspended.yaml': ['Suspended', 'CronJob backup is suspended'],
  'cronjob-healthy.yaml': ['Healthy', 'CronJob backup: its last Job backup-28579860 succeeded'],
  'cronjob-last-failed.yaml': ['Degraded', 'CronJob backup: its last Job backup-28579860 failed: BackoffLimitExceeded: Job has reached the specified backoff limit'],
  'cronjob-not-successful.yaml': ['Degraded', 'CronJob backup has not run successfully since 2024-05-02T03:00:00Z'],
  'cronjob-running.yaml': ['Healthy', 'CronJob backup: 1 Job(s) running'],
  'hpa-healthy.yaml': ['Healthy', 'the desired count is within the acceptable range'],
  'hpa-no-metrics.yaml': ['Degraded', 'the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container c of Pod web-1'],
  'hpa-waiting.yaml': ['Progressing', 'Waiting to Autoscale'],
};

test('every fixture has an expectation, and every expectation a fixture', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
  assert.equal(files, Object.keys(CASES).sort());
});

for (const [file, [status, message]] of Object.entries(CASES)) {
  test(`${file.replace(/\.yaml$/, '')}: ${status}`, () => {
    const h = assess(file);
    assert.equal({ status: h.status, message: h.message }, { status, message });
  });
}

test('every status a check can return is covered by some fixture', () => {
  const seen = new Set(Object.values(CASES).map(([s]) => s));
  assert.equal([...seen].sort(), ['Degraded', 'Healthy', 'Progressing', 'Suspended', 'Unknown']); // Missing: revision.ts
});

test('every registered kind has a fixture', () => {
  const kinds = new Set(Object.keys(CASES).map((f) => load(f)[0].kind));
  for (const kind of Object.keys(HEALTH_CHECKS)) assert.ok(kinds.has(kind), kind);
});

test('a Deployment without its ReplicaSets in the snapshot is judged on its status alone', () => {
  const [d] = load('deployment-crashloop.yaml');
  assert.equal(assessHealth(d), { status: 'Progressing', message: 'Deployment web: 2/3 replicas available, 1/3 updated' });
});

test('ownership goes by namespace: the same names in another namespace are not the Deployment\'s', () => {
  const docs = load('deployment-crashloop.yaml');
  const elsewhere = docs.slice(1).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'other' } }));
  assert.equal(assessHealth(docs[0], healthContext([docs[0], ...elsewhere])).status, 'Progressing');
});

test('without uids, ownership falls back to the owner\'s kind and name', () => {
  const strip = (o: KubeObject): KubeObject => ({
    ...o,
    metadata: { ...o.metadata, uid: undefined, ownerReferences: o.metadata.ownerReferences?.map((r) => ({ ...r, uid: '' })) },
  });
  const docs = load('deployment-crashloop.yaml').map(strip);
  assert.equal(assessHealth(docs[0], healthContext(docs)).status, 'Degraded');
});

test('a check that throws gives Unknown with the error, never an exception', () => {
  const [d] = load('deployment-healthy.yaml');
  const broken = { list: () => { throw new Error('cache not synced'); } };
  assert.equal(assessHealth(d, broken), { status: 'Unknown', message: 'Deployment web: health check failed: cache not synced' });
});

test('an object being deleted is Progressing whatever its kind\'s check would say', () => {
  const [cm] = load('configmap.yaml');
  const deleting = { ...cm, metadata: { ...cm.metadata, deletionTimestamp: '2024-05-01T10:00:00Z' } };
  assert.equal(assessHealth(deleting), { status: 'Progressing', message: 'ConfigMap web-config is terminating' });
});

test('a kind named like an Object.prototype member has no check', () => {
  const odd = { apiVersion: 'example.com/v1', kind: 'constructor', metadata: { name: 'x' } };
  assert.equal(assessHealth(odd), { status: 'Unknown', message: 'no health check for kind constructor' });
});

test('healthContext lists by kind, and by namespace when asked', () => {
  const ctx = healthContext([...load('deployment-healthy.yaml'), ...load('node-ready.yaml')]);
  assert.is(ctx.list('Pod').length, 4);
  assert.is(ctx.list('Pod', 'default').length, 4);
  assert.is(ctx.list('Pod', 'other').length, 0);
  assert.equal(ctx.list('Node', '').map((n) => n.metadata.name), ['node-1']);
  assert.equal(ctx.list('Job'), []);
});

test('owned: the controller index finds what a scan of the namespace finds (by uid, by name without one, not across namespaces)', () => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'a', uid: 'u1' } } as KubeObject;
  const pod = (name: string, namespace: string, ref?: { uid?: string; name?: string; controller?: boolean }) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...(ref && { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: ref.name ?? 'web', controller: ref.controller ?? true, ...(ref.uid !== undefined && { uid: ref.uid }) }] }) },
  }) as KubeObject;
  const objects = [rs, pod('p3', 'a', { uid: 'u1' }), pod('p1', 'a', { uid: 'u1' }), pod('p2', 'a', {}), pod('other-uid', 'a', { uid: 'u2' }),
    pod('other-ns', 'b', { uid: 'u1' }), pod('orphan', 'a'), pod('not-controller', 'a', { uid: 'u1', controller: false }), pod('other-name', 'a', { name: 'api' })];
  const names = (ctx: Parameters<typeof owned>[2]) => owned(rs, 'Pod', ctx).map((p) => p.metadata.name);
  const indexed = healthContext(objects);
  assert.ok(indexed.controlledBy);
  assert.equal(names(indexed), ['p1', 'p2', 'p3']);
  assert.equal(names({ list: indexed.list }), ['p1', 'p2', 'p3']);
});

test('isPodHealthy says Healthy exactly when podHealth does, for every pod of every fixture', () => {
  const pods = readdirSync(DIR).flatMap((f) => load(f)).filter((o) => o.kind === 'Pod');
  assert.ok(pods.length > 20, `${pods.length} pods`);
  const statuses = new Set<string>();
  for (const pod of pods) {
    const health = podHealth(pod);
    statuses.add(health.status);
    assert.is(isPodHealthy(pod), health.status === 'Healthy', `${pod.metadata.name}: ${health.message}`);
  }
  assert.ok(['Healthy', 'Progressing', 'Degraded'].every((s) => statuses.has(s)), [...statuses].join(', '));
});

test('podReason: the few words a workload quotes', () => {
  const reason = (file: string) => podReason(load(file)[0]);
  assert.is(reason('pod-crashloop.yaml'), 'CrashLoopBackOff');
  assert.is(reason('pod-container-cannot-run.yaml'), 'ContainerCannotRun');
  assert.is(reason('pod-unschedulable.yaml'), 'Unschedulable: 0/1 nodes are available: 1 Insufficient memory.');
  assert.is(reason('pod-container-creating.yaml'), 'ContainerCreating');
  assert.is(reason('pod-running-not-ready.yaml'), 'Running, not ready');
  assert.is(reason('pod-running-restarted-not-ready.yaml'), 'Running, not ready, last terminated: Error');
  assert.is(reason('pod-failed-message.yaml'), 'Evicted');
  assert.is(reason('pod-terminating.yaml'), 'Terminating');
  assert.is(reason('pod-pending.yaml'), 'Pending');
  assert.is(reason('pod-running.yaml'), 'Running');
});

test('a rollout that waits on a pod names the pod\'s own reason as its cause, for the chain of reasons', () => {
  const causes = assess('deployment-crashloop.yaml').causes ?? [];
  assert.is(causes.length, 1);
  assert.match(causes[0], /^Pod web-7d9f5-x2abc: container web waiting: CrashLoopBackOff .*last terminated: Error \(exit code 1\)$/);
  assert.is(assess('deployment-healthy.yaml').causes, undefined);
});

test.run();
