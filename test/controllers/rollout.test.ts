// The rollout arithmetic, pure: fenceposts, the new ReplicaSet's step, old ReplicaSets' scale-down, proportional
// scaling, Recreate's gate and history pruning, with the numbers Kubernetes' own docs and tests use.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import {
  findActiveOrLatest, isSaturated, isScalingEvent, maxSurge, maxUnavailable, newRSNewReplicas, oldPodsRunning, paramsOf,
  reconcileOldReplicaSets, replicaSetsToPrune, resolveFenceposts, scale, scaledValue, viewOf, type ReplicaSetView, type RolloutParams,
} from '../../src/controllers/rollout.ts';

let clock = 0;
/** A ReplicaSet view; each one made later than the last unless `created` says otherwise. */
function rs(name: string, replicas: number, available = replicas, extra: Partial<ReplicaSetView> = {}): ReplicaSetView {
  clock += 1000;
  return {
    name, uid: `uid-${name}`, creationTimestamp: new Date(Date.UTC(2024, 0, 1) + clock).toISOString(),
    replicas, statusReplicas: replicas, readyReplicas: available, availableReplicas: available,
    revision: 0, generation: 1, observedGeneration: 1, deleting: false, ...extra,
  };
}

const rolling = (replicas: number, surge: number | string, unavailable: number | string): RolloutParams =>
  ({ replicas, strategy: 'RollingUpdate', maxSurge: surge, maxUnavailable: unavailable });

test('percentages: surge rounds up, unavailable rounds down; ints pass through; a bare string is refused', () => {
  assert.is(scaledValue('25%', 10, true), 3);
  assert.is(scaledValue('25%', 10, false), 2);
  assert.is(scaledValue('33%', 3, true), 1);
  assert.is(scaledValue('33%', 3, false), 0);
  assert.is(scaledValue('100%', 7, false), 7);
  assert.is(scaledValue(4, 10, true), 4);
  assert.throws(() => scaledValue('3', 10, true), /not a percentage/);
  assert.throws(() => scaledValue('abc%', 10, true), /not a percentage/);
});

test('fenceposts: both zero after rounding makes maxUnavailable 1, so a rollout can always move', () => {
  assert.equal(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 });
  assert.equal(resolveFenceposts('0%', '0%', 5), { surge: 0, unavailable: 1 });
  // 25% of 1: surge rounds up to 1, unavailable down to 0 — not both zero, so no adjustment.
  assert.equal(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 });
  // 10% of 3 unavailable rounds to 0 and 0 surge: the adjustment kicks in after rounding.
  assert.equal(resolveFenceposts(0, '10%', 3), { surge: 0, unavailable: 1 });
  assert.equal(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
});

test('maxUnavailable is capped at replicas and is 0 for Recreate or no replicas; maxSurge is 0 for Recreate', () => {
  assert.is(maxUnavailable(rolling(3, 0, 5)), 3);
  assert.is(maxUnavailable(rolling(0, '25%', '25%')), 0);
  assert.is(maxUnavailable({ ...rolling(4, 1, 1), strategy: 'Recreate' }), 0);
  assert.is(maxSurge({ ...rolling(4, 1, 1), strategy: 'Recreate' }), 0);
  assert.is(maxSurge(rolling(10, '25%', 0)), 3);
});

test('paramsOf applies the API defaults', () => {
  assert.equal(paramsOf({}), { replicas: 1, strategy: 'RollingUpdate', maxSurge: '25%', maxUnavailable: '25%' });
  assert.equal(paramsOf({ replicas: 0, strategy: { type: 'Recreate' } }).strategy, 'Recreate');
  assert.is(paramsOf({ replicas: 0 }).replicas, 0);
});

test('the new ReplicaSet grows only to replicas + maxSurge in total, and never beyond replicas', () => {
  const p = rolling(10, '25%', '25%'); // surge 3
  const old = rs('old', 10);
  const fresh = rs('new', 0);
  assert.is(newRSNewReplicas(p, [old, fresh], fresh), 3);
  // At the ceiling (13 pods asked for): it stays.
  const at3 = { ...fresh, replicas: 3 };
  assert.is(newRSNewReplicas(p, [old, at3], at3), 3);
  // Old scaled down to 8: room for 2 more.
  assert.is(newRSNewReplicas(p, [{ ...old, replicas: 8 }, at3], at3), 5);
  // Old gone: to replicas, not replicas + surge.
  const at9 = { ...fresh, replicas: 9 };
  assert.is(newRSNewReplicas(p, [{ ...old, replicas: 0 }, at9], at9), 10);
  // Surge 0: no growth until old ones shrink.
  const p0 = rolling(4, 0, 1);
  const f0 = rs('n', 0);
  assert.is(newRSNewReplicas(p0, [rs('o', 4), f0], f0), 0);
  assert.is(newRSNewReplicas(p0, [rs('o2', 3), f0], f0), 1);
  // Recreate: the full count at once.
  assert.is(newRSNewReplicas({ ...p, strategy: 'Recreate' }, [old, fresh], fresh), 10);
});

test('old ReplicaSets shrink by what availability above replicas - maxUnavailable allows', () => {
  const p = rolling(10, '25%', '25%'); // surge 3, unavailable 2: at least 8 available
  // New pods asked for but not available yet: old ones may lose only 2 (10 available - 8).
  assert.equal(reconcileOldReplicaSets(p, [rs('old', 10)], rs('new', 3, 0)), [{ name: 'old', replicas: 8 }]);
  // New ones available: their availability lets more old ones go.
  assert.equal(reconcileOldReplicaSets(p, [rs('old2', 8)], rs('new2', 5, 5)), [{ name: 'old2', replicas: 3 }]);
  // Nothing left to scale down.
  assert.equal(reconcileOldReplicaSets(p, [rs('gone', 0)], rs('n', 10)), []);
});

test('old scale-down never takes availability below the minimum, and waits while new pods are unavailable', () => {
  const p = rolling(4, 1, 0); // 4 must stay available
  // 5 pods asked for, the new one unavailable: maxScaledDown = 5 - 4 - 1 = 0.
  assert.equal(reconcileOldReplicaSets(p, [rs('old', 4)], rs('new', 1, 0)), []);
  // The new one available: one old may go.
  assert.equal(reconcileOldReplicaSets(p, [rs('old', 4)], rs('new', 1, 1)), [{ name: 'old', replicas: 3 }]);
});

test('unhealthy old replicas are removed first, even when availability is already below the minimum', () => {
  const p = rolling(10, 0, 1); // 9 must stay available; 10 pods in all
  const a = rs('a', 5, 2); // 3 unavailable
  const b = rs('b', 5, 5);
  const n = rs('n', 0);
  // maxScaledDown = 10 - 9 - 0 = 1: one unhealthy replica of the oldest goes; healthy ones are kept (7 < 9).
  assert.equal(reconcileOldReplicaSets(p, [b, a], n), [{ name: 'a', replicas: 4 }]);
  // More room (maxUnavailable 5): the 3 unhealthy go, then healthy ones down to 5 available, oldest first.
  assert.equal(reconcileOldReplicaSets(rolling(10, 0, 5), [a, b], n), [{ name: 'a', replicas: 0 }]);
  // maxUnavailable 7: down to 3 available, reaching into the second one.
  assert.equal(reconcileOldReplicaSets(rolling(10, 0, 7), [a, b], n), [{ name: 'a', replicas: 0 }, { name: 'b', replicas: 3 }]);
});

test('old ReplicaSets scale down oldest first', () => {
  const p = rolling(6, 0, 3);
  const older = rs('older', 3), newer = rs('newer', 3);
  assert.equal(reconcileOldReplicaSets(p, [newer, older], rs('n', 0)), [{ name: 'older', replicas: 0 }]);
});

test('a lagging status (spec lowered, pods not yet gone) never counts more available pods than the spec asks for', () => {
  const p = rolling(4, 1, 1); // 3 must stay available
  // Old was just scaled to 2 but its status still shows 4 available; new has 2, 1 available.
  const old = rs('old', 2, 4);
  assert.equal(reconcileOldReplicaSets(p, [old], rs('new', 2, 1)), [], 'only 3 are really available: none may go');
});

test('scale: a single active ReplicaSet takes the whole count', () => {
  const p = rolling(5, '25%', '25%');
  assert.equal(scale(p, rs('new', 3), [rs('old', 0)], 3), { resizes: [{ name: 'new', replicas: 5 }], refreshAnnotations: false });
  assert.equal(scale(p, rs('new2', 5), [], 5).resizes, []);
  // No active ReplicaSet: the newest one.
  assert.equal(scale(p, undefined, [rs('o1', 0), rs('o2', 0)], 0).resizes, [{ name: 'o2', replicas: 5 }]);
});

test('scale: a saturated new ReplicaSet sends old ones to 0', () => {
  const p = rolling(3, 1, 1);
  const n = rs('new', 3, 3, { desiredReplicas: 3 });
  assert.ok(isSaturated(p, n));
  assert.equal(scale(p, n, [rs('old', 1)], 4).resizes, [{ name: 'old', replicas: 0 }]);
});

test('scale: proportional scaling mid-rollout (the Kubernetes docs example: 10 → 15, 3 to old and 2 to new)', () => {
  // 10 replicas, maxSurge 3: old at 8, new at 5, both sized when max was 13.
  const old = rs('old', 8, 8, { maxReplicas: 13, desiredReplicas: 10 });
  const n = rs('new', 5, 0, { maxReplicas: 13, desiredReplicas: 10 });
  const plan = scale(rolling(15, 3, 2), n, [old], 13);
  assert.equal(plan.resizes, [{ name: 'old', replicas: 11 }, { name: 'new', replicas: 7 }]);
  assert.ok(plan.refreshAnnotations);
  // And back down to 5 (max 8): 18 → 8, the larger (old) ReplicaSet first.
  const old2 = rs('old2', 11, 11, { maxReplicas: 18 }), n2 = rs('new2', 7, 0, { maxReplicas: 18 });
  const down = scale(rolling(5, 3, 2), n2, [old2], 18).resizes;
  assert.equal(down, [{ name: 'old2', replicas: 5 }, { name: 'new2', replicas: 3 }]);
  assert.is(down.reduce((s, r) => s + r.replicas, 0), 8);
});

test('scale: to zero takes every active ReplicaSet to 0', () => {
  const plan = scale(rolling(0, 1, 1), rs('n', 2, 0, { maxReplicas: 5 }), [rs('o', 3, 3, { maxReplicas: 5 })], 5);
  assert.equal(plan.resizes.map((r) => r.replicas), [0, 0]);
});

test('scale: without max-replicas annotations the deployment status size is the baseline', () => {
  const plan = scale(rolling(20, 0, 1), rs('n', 5), [rs('o', 5)], 10);
  assert.equal(plan.resizes.map((r) => r.replicas).sort(), [10, 10]);
});

test('findActiveOrLatest and isScalingEvent', () => {
  const a = rs('a', 0), b = rs('b', 0), c = rs('c', 2);
  assert.is(findActiveOrLatest(undefined, [a, b])?.name, 'b');
  assert.is(findActiveOrLatest(a, [b, c])?.name, 'c');
  assert.is(findActiveOrLatest(rs('d', 1), [c]), undefined);
  assert.is(findActiveOrLatest(undefined, []), undefined);
  const p = rolling(5, 1, 1);
  assert.ok(isScalingEvent(p, [rs('x', 3, 3, { desiredReplicas: 3 })]));
  assert.not.ok(isScalingEvent(p, [rs('y', 3, 3, { desiredReplicas: 5 }), undefined]));
  assert.not.ok(isScalingEvent(p, [rs('z', 0, 0, { desiredReplicas: 3 })]), 'inactive ones do not count');
  assert.not.ok(isScalingEvent(p, [rs('w', 3)]), 'no annotation: not a scaling event');
});

const pod = (ownerUid: string, phase: string, deleting = false): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `p-${Math.random()}`, ...(deleting && { deletionTimestamp: '2024-01-01T00:00:30Z' }), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: ownerUid, controller: true }] },
  status: { phase },
});

test('Recreate gate: old pods must be gone, not only being deleted; terminal pods and the new ones do not count', () => {
  const old = rs('old', 0, 0, { statusReplicas: 0 }), n = rs('new', 0);
  assert.not.ok(oldPodsRunning(n, [old], new Map([[old.uid!, []]])));
  assert.ok(oldPodsRunning(n, [{ ...old, statusReplicas: 1 }], new Map()), 'status still counts one');
  assert.ok(oldPodsRunning(n, [old], new Map([[old.uid!, [pod(old.uid!, 'Running', true)]]])), 'being deleted still runs');
  assert.ok(oldPodsRunning(undefined, [old], new Map([[old.uid!, [pod(old.uid!, 'Pending')]]])));
  assert.not.ok(oldPodsRunning(n, [old], new Map([[old.uid!, [pod(old.uid!, 'Succeeded'), pod(old.uid!, 'Failed')]]])));
  assert.not.ok(oldPodsRunning(n, [old], new Map([[n.uid!, [pod(n.uid!, 'Running')]]])));
});

test('history pruning: oldest revisions beyond the limit, only when scaled to 0, without pods and observed', () => {
  const r = (name: string, revision: number, extra: Partial<ReplicaSetView> = {}) => rs(name, 0, 0, { statusReplicas: 0, revision, ...extra });
  const olds = [r('r3', 3), r('r1', 1), r('r4', 4), r('r2', 2)];
  assert.equal(replicaSetsToPrune(olds, 2).map((x) => x.name), ['r1', 'r2']);
  assert.equal(replicaSetsToPrune(olds, 0).map((x) => x.name), ['r1', 'r2', 'r3', 'r4']);
  assert.equal(replicaSetsToPrune(olds, 4), []);
  // The oldest still has a pod, the next a status not yet observed: both kept, and nothing else deleted instead.
  const busy = [r('b1', 1, { statusReplicas: 1 }), r('b2', 2, { generation: 3, observedGeneration: 2 }), r('b3', 3)];
  assert.equal(replicaSetsToPrune(busy, 1), []);
  assert.equal(replicaSetsToPrune([r('d1', 1, { deleting: true }), r('d2', 2)], 0).map((x) => x.name), ['d2']);
});

test('viewOf reads spec, status and annotations of a ReplicaSet', () => {
  const v = viewOf({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web-abc', uid: 'u', generation: 2, creationTimestamp: '2024-01-01T00:00:00Z', annotations: { 'deployment.kubernetes.io/revision': '4', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': 'x' } },
    spec: { replicas: 3 },
    status: { replicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 2 },
  });
  assert.equal(
    [v.replicas, v.statusReplicas, v.readyReplicas, v.availableReplicas, v.revision, v.desiredReplicas, v.maxReplicas, v.generation, v.observedGeneration],
    [3, 2, 2, 1, 4, 3, undefined, 2, 2],
  );
});

test.run();
