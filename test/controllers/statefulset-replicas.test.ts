// The StatefulSet controller's pure decisions: ordering, scale-down, partition, maxUnavailable, OnDelete, status,
// revisions and the claims' retention policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { replicaActions } from '../../src/controllers/statefulset-replicas.ts';
import { statefulSetStatus } from '../../src/controllers/statefulset-status.ts';
import { newRevision, revisionsToTruncate, sortRevisions, templateOf, updateRevisionStep } from '../../src/controllers/controller-revision.ts';
import { claimOwners } from '../../src/controllers/statefulset-claims.ts';
import { statefulSetClaim, statefulSetPod, defaultStorageClass } from '../../src/controllers/statefulset-identity.ts';

const NOW = new Date('2026-01-01T00:01:00Z');

function sts(spec: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default', uid: 'u-db', generation: 1 },
    spec: {
      replicas: 3, serviceName: 'db-headless', podManagementPolicy: 'OrderedReady', selector: { matchLabels: { app: 'db' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'redis' }] } },
      ...spec,
    },
  };
}

type State = 'ready' | 'running' | 'pending' | 'failed' | 'terminating';
function pod(ordinal: number, state: State, revision = 'db-new', readySince = '2026-01-01T00:00:00Z'): KubeObject {
  const p = statefulSetPod(sts(), sts().spec.template, ordinal, revision);
  p.metadata.uid = `u-pod-${ordinal}`;
  if (state === 'terminating') p.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
  const phase = { ready: 'Running', running: 'Running', pending: 'Pending', failed: 'Failed', terminating: 'Running' }[state];
  p.status = { phase, conditions: [{ type: 'Ready', status: state === 'ready' || state === 'terminating' ? 'True' : 'False', lastTransitionTime: readySince }] };
  return p;
}

const act = (set: KubeObject, pods: KubeObject[]) => {
  const a = replicaActions({ set, pods, updateRevision: 'db-new', now: NOW });
  return { create: a.create.map((c) => `${c.ordinal}:${c.revision}`), delete: a.delete.map((d) => `${d.pod.metadata.name}:${d.why}`), waiting: a.waiting, requeueAfterMs: a.requeueAfterMs };
};

test('OrderedReady creates the lowest missing ordinal only once every lower one is Running and Ready; Parallel creates all', () => {
  assert.equal(act(sts(), []).create, ['0:update']);
  assert.equal(act(sts(), [pod(0, 'running')]), { create: [], delete: [], waiting: 'pod db-0 is not Running and Ready (Running, not Ready)', requeueAfterMs: undefined });
  assert.equal(act(sts(), [pod(0, 'ready')]).create, ['1:update']);
  assert.equal(act(sts(), [pod(0, 'ready'), pod(1, 'pending')]).create, []);
  assert.equal(act(sts({ podManagementPolicy: 'Parallel' }), []).create, ['0:update', '1:update', '2:update']);
  assert.equal(act(sts({ podManagementPolicy: 'Parallel' }), [pod(1, 'pending')]).create, ['0:update', '2:update']);
  // ordinals.start moves the range.
  assert.equal(act(sts({ ordinals: { start: 5 }, replicas: 1 }), []).create, ['5:update']);
});

test('minReadySeconds: OrderedReady waits until the pod has been ready that long, and says when to look again', () => {
  const a = act(sts({ minReadySeconds: 90 }), [pod(0, 'ready')]);
  assert.equal(a.create, []);
  assert.is(a.requeueAfterMs, 30_001);
  assert.equal(act(sts({ minReadySeconds: 30 }), [pod(0, 'ready')]).create, ['1:update']);
});

test('a failed pod is deleted to be recreated; scale-down removes the highest ordinal first, one at a time, only when all are healthy', () => {
  assert.equal(act(sts(), [pod(0, 'failed')]).delete, ['db-0:failed']);
  const all = (n: number, state: State = 'ready') => Array.from({ length: n }, (_, i) => pod(i, state));
  assert.equal(act(sts({ replicas: 1 }), all(3)).delete, ['db-2:scale-down']);
  assert.equal(act(sts({ replicas: 1 }), [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'terminating')]).delete, [], 'waits for db-2 to go');
  assert.equal(act(sts({ replicas: 1 }), [pod(0, 'running'), pod(1, 'ready'), pod(2, 'ready')]).delete, [], 'db-0 is not ready: no scale-down');
  // The first unhealthy pod itself may go: db-2 not ready is removed.
  assert.equal(act(sts({ replicas: 2 }), [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'running')]).delete, ['db-2:scale-down']);
  assert.equal(act(sts({ replicas: 1, podManagementPolicy: 'Parallel' }), all(3, 'running')).delete, ['db-2:scale-down', 'db-1:scale-down']);
});

test('RollingUpdate replaces stale pods from the highest ordinal down to the partition, maxUnavailable at a time', () => {
  const old = [0, 1, 2].map((i) => pod(i, 'ready', 'db-old'));
  assert.equal(act(sts(), old).delete, ['db-2:update']);
  assert.equal(act(sts(), [old[0], old[1], pod(2, 'running')]), { create: [], delete: [], waiting: 'pod db-2 is not Running and Ready (Running, not Ready)', requeueAfterMs: undefined });
  assert.equal(act(sts(), [old[0], old[1], pod(2, 'ready')]).delete, ['db-1:update']);
  assert.equal(act(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }), [old[0], old[1], pod(2, 'ready')]).delete, [], 'below the partition stays');
  assert.equal(act(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }), old).delete, ['db-2:update', 'db-1:update']);
  assert.equal(act(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '100%' } } }), old).delete, ['db-2:update', 'db-1:update', 'db-0:update']);
  // Below the partition a recreated pod gets the current revision, at or above it the update revision.
  assert.equal(act(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }), []).create, ['0:current']);
  assert.equal(act(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, podManagementPolicy: 'Parallel' }), []).create, ['0:current', '1:current', '2:update']);
});

test('OnDelete never deletes stale pods; a pod someone deleted comes back at the update revision', () => {
  const onDelete = sts({ updateStrategy: { type: 'OnDelete' } });
  assert.equal(act(onDelete, [0, 1, 2].map((i) => pod(i, 'ready', 'db-old'))).delete, []);
  assert.equal(act(onDelete, [pod(0, 'ready', 'db-old'), pod(2, 'ready', 'db-old')]).create, ['1:update']);
});

test('status counts pods and completes a rolling update once every pod is updated and ready', () => {
  const input = { set: sts(), currentRevision: 'db-old', updateRevision: 'db-new', collisionCount: 0, now: NOW };
  const mid = statefulSetStatus({ ...input, pods: [pod(0, 'ready', 'db-old'), pod(1, 'ready', 'db-old'), pod(2, 'running')] });
  assert.equal(mid, { observedGeneration: 1, replicas: 3, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, availableReplicas: 2, currentRevision: 'db-old', updateRevision: 'db-new', collisionCount: 0 });
  const done = statefulSetStatus({ ...input, pods: [0, 1, 2].map((i) => pod(i, 'ready')) });
  assert.equal([done.currentRevision, done.currentReplicas, done.updatedReplicas], ['db-new', 3, 3]);
  const onDelete = statefulSetStatus({ ...input, set: sts({ updateStrategy: { type: 'OnDelete' } }), pods: [0, 1, 2].map((i) => pod(i, 'ready')) });
  assert.is(onDelete.currentRevision, 'db-old', 'OnDelete never completes a rolling update (as upstream)');
  const minReady = statefulSetStatus({ ...input, set: sts({ minReadySeconds: 120 }), pods: [pod(0, 'ready')] });
  assert.equal([minReady.readyReplicas, minReady.availableReplicas], [1, 0]);
});

test('revisions: named <set>-<hash>, stable for a template; an equal earlier revision is renumbered (rollback), not recreated', () => {
  const v1 = sts();
  const v2 = sts({ template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'redis:7' }] } } });
  const r1 = { ...newRevision(v1, 1, 0), metadata: { ...newRevision(v1, 1, 0).metadata, creationTimestamp: '2026-01-01T00:00:00Z' } };
  assert.match(r1.metadata.name, /^db-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.is(newRevision(v1, 1, 0).metadata.name, r1.metadata.name, 'same template, same name');
  assert.is.not(newRevision(v1, 1, 1).metadata.name, r1.metadata.name, 'a collision count gives another name');
  assert.equal(templateOf(r1), v1.spec.template);
  assert.equal(r1.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u-db', controller: true, blockOwnerDeletion: true }]);
  assert.is(updateRevisionStep(v1, [r1], 0).action, 'use');
  const step2 = updateRevisionStep(v2, [r1], 0);
  assert.is(step2.action, 'create');
  assert.is(step2.revision.revision, 2);
  const back = updateRevisionStep(v1, sortRevisions([step2.revision, r1]), 0);
  assert.equal([back.action, back.revision.metadata.name, back.action === 'renumber' && back.to], ['renumber', r1.metadata.name, 3]);
  // History: live revisions stay; the oldest others go beyond the limit.
  const revs = [1, 2, 3, 4].map((n) => ({ ...newRevision(sts({ replicas: n, template: { metadata: { labels: { app: 'db', v: String(n) } } } }), n, 0) }));
  assert.equal(revisionsToTruncate(revs, new Set([revs[0].metadata.name, revs[3].metadata.name]), 1).map((r) => r.revision), [2]);
});

test('retention policy as owner references: the set for whenDeleted: Delete, the condemned pod for whenScaled: Delete', () => {
  const set = (whenDeleted: string, whenScaled: string, replicas = 3) => sts({ replicas, persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } });
  const claim = statefulSetClaim(sts(), { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } } as KubeObject, 2);
  const owners = (s: KubeObject) => claimOwners(claim, s, pod(2, 'ready')).map((r) => `${r.kind}/${r.name}`);
  assert.equal(owners(set('Retain', 'Retain')), []);
  assert.equal(owners(set('Delete', 'Retain')), ['StatefulSet/db']);
  assert.equal(owners(set('Retain', 'Delete')), [], 'db-2 is still a replica');
  assert.equal(owners(set('Retain', 'Delete', 2)), ['Pod/db-2']);
  assert.equal(owners(set('Delete', 'Delete', 2)), ['Pod/db-2']);
  assert.equal(owners(set('Delete', 'Delete', 3)), ['StatefulSet/db']);
  const foreign = { ...claim, metadata: { ...claim.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Other', name: 'x', uid: 'u-x', controller: true }] } };
  assert.equal(claimOwners(foreign, set('Delete', 'Delete'), pod(2, 'ready')).map((r) => r.name), ['x'], 'another controller keeps it');
});

test('pod identity and claims: hostname, subdomain, labels, claim volumes; claims get the default StorageClass', () => {
  const set = sts({ volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] });
  const p = statefulSetPod(set, set.spec.template, 1, 'db-abc');
  assert.equal(p.metadata.labels, { app: 'db', 'statefulset.kubernetes.io/pod-name': 'db-1', 'apps.kubernetes.io/pod-index': '1', 'controller-revision-hash': 'db-abc' });
  assert.equal([p.spec.hostname, p.spec.subdomain], ['db-1', 'db-headless']);
  assert.equal(p.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } }]);
  const classes = [
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'slow', creationTimestamp: '2026-01-01T00:00:00Z' } },
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } },
  ] as KubeObject[];
  const c = statefulSetClaim(set, set.spec.volumeClaimTemplates[0], 1, defaultStorageClass(classes));
  assert.equal(c.metadata, { name: 'data-db-1', namespace: 'default', labels: { tier: 'db', app: 'db' } });
  assert.equal(c.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path', volumeMode: 'Filesystem' });
  assert.is(defaultStorageClass([classes[0]]), undefined);
});

test.run();
