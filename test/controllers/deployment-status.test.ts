// Deployment status, pure: counts over ReplicaSets, Available, and Progressing with Kubernetes' progress rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Condition } from '../../src/model/conditions.ts';
import type { ReplicaSetView } from '../../src/controllers/rollout.ts';
import {
  calculateStatus, pausedConditions, progressCheckInMs, rolloutStatus, setDeploymentCondition,
} from '../../src/controllers/deployment-status.ts';

const T0 = new Date('2024-05-01T10:00:00.400Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function deployment(spec: Record<string, unknown> = {}, status?: object, generation = 1): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', generation },
    spec: { replicas: 3, progressDeadlineSeconds: 60, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } }, ...spec },
    ...(status && { status }),
  };
}

function rs(name: string, replicas: number, ready: number, available: number, extra: Partial<ReplicaSetView> = {}): ReplicaSetView {
  return {
    name, creationTimestamp: '2024-05-01T09:00:00Z', replicas, statusReplicas: replicas, readyReplicas: ready, availableReplicas: available,
    revision: 1, generation: 1, observedGeneration: 1, deleting: false, ...extra,
  };
}

const cond = (conds: Condition[] | undefined, type: string) => conds?.find((c) => c.type === type);

test('counts: replicas and updated from status, unavailable from spec minus available, never negative', () => {
  const d = deployment({}, undefined, 4);
  const old = rs('web-old', 2, 2, 2), n = rs('web-new', 2, 1, 0);
  const s = calculateStatus(d, [old, n], n, T0);
  assert.equal(
    [s.observedGeneration, s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.unavailableReplicas],
    [4, 4, 2, 3, 2, 2],
  );
  const over = calculateStatus(d, [rs('a', 1, 3, 3, { statusReplicas: 3 })], undefined, T0);
  assert.is(over.unavailableReplicas, 0);
  assert.is(over.updatedReplicas, 0, 'no new ReplicaSet: nothing updated');
});

test('Available: True with replicas - maxUnavailable available, else False with Kubernetes\' message', () => {
  const d = deployment();
  const ok = cond(calculateStatus(d, [rs('a', 3, 2, 2)], undefined, T0).conditions, 'Available')!;
  assert.equal([ok.status, ok.reason, ok.message], ['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']);
  const bad = cond(calculateStatus(d, [rs('a', 3, 1, 1)], undefined, T0).conditions, 'Available')!;
  assert.equal([bad.status, bad.reason, bad.message], ['False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.']);
  assert.is(bad.lastTransitionTime, '2024-05-01T10:00:00Z', 'second precision');
});

test('setDeploymentCondition: same status and reason changes nothing (same array); a new status moves lastTransitionTime', () => {
  const c1: Condition = { type: 'Available', status: 'True', reason: 'R', message: 'm', lastUpdateTime: 't1', lastTransitionTime: 't1' };
  const list = [c1];
  assert.is(setDeploymentCondition(list, { ...c1, message: 'other', lastUpdateTime: 't2', lastTransitionTime: 't2' }), list);
  const reason = setDeploymentCondition(list, { ...c1, reason: 'R2', lastUpdateTime: 't2', lastTransitionTime: 't2' });
  assert.equal([reason[0].lastTransitionTime, reason[0].lastUpdateTime], ['t1', 't2']);
  const flipped = setDeploymentCondition(list, { ...c1, status: 'False', lastUpdateTime: 't3', lastTransitionTime: 't3' });
  assert.is(flipped[0].lastTransitionTime, 't3');
});

test('Progressing: progress refreshes lastUpdateTime (ReplicaSetUpdated), completion says NewReplicaSetAvailable', () => {
  const created: Condition = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: 'Created new replica set "web-new"', lastUpdateTime: '2024-05-01T09:59:00Z', lastTransitionTime: '2024-05-01T09:59:00Z' };
  const d = deployment({}, { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1, conditions: [created] });
  const n = rs('web-new', 2, 1, 1);
  const s = rolloutStatus(d, [rs('web-old', 2, 2, 2), n], n, T0);
  const p = cond(s.conditions, 'Progressing')!;
  assert.equal([p.status, p.reason, p.message], ['True', 'ReplicaSetUpdated', 'ReplicaSet "web-new" is progressing.']);
  assert.is(p.lastUpdateTime, '2024-05-01T10:00:00Z');
  assert.is(p.lastTransitionTime, '2024-05-01T09:59:00Z', 'still True: transition time kept');

  const done = rs('web-new', 3, 3, 3);
  const c = cond(rolloutStatus(d, [rs('web-old', 0, 0, 0), done], done, T0).conditions, 'Progressing')!;
  assert.equal([c.status, c.reason, c.message], ['True', 'NewReplicaSetAvailable', 'ReplicaSet "web-new" has successfully progressed.']);
});

test('Progressing: no progress past the deadline is ProgressDeadlineExceeded; a finished rollout never times out', () => {
  const upd: Condition = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'x', lastUpdateTime: '2024-05-01T10:00:00Z', lastTransitionTime: '2024-05-01T10:00:00Z' };
  const status = { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1, conditions: [upd] };
  const d = deployment({}, status);
  const n = rs('web-new', 1, 0, 0);
  const all = [rs('web-old', 2, 2, 2), n];
  assert.is(cond(rolloutStatus(d, all, n, at(59)).conditions, 'Progressing')!.reason, 'ReplicaSetUpdated', 'not yet');
  const late = cond(rolloutStatus(d, all, n, at(61)).conditions, 'Progressing')!;
  assert.equal([late.status, late.reason, late.message], ['False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-new" has timed out progressing.']);
  assert.is(late.lastTransitionTime, '2024-05-01T10:01:01Z');

  const complete: Condition = { ...upd, reason: 'NewReplicaSetAvailable' };
  const finished = deployment({}, { ...status, replicas: 3, updatedReplicas: 3, conditions: [complete] });
  const n3 = rs('web-new', 3, 2, 2);
  assert.is(cond(rolloutStatus(finished, [n3], n3, at(3600)).conditions, 'Progressing')!.reason, 'NewReplicaSetAvailable');
});

test('Progressing is dropped without a deadline (progressDeadlineSeconds MaxInt32)', () => {
  const d = deployment({ progressDeadlineSeconds: 2147483647 }, { conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' }] });
  const n = rs('web-new', 3, 3, 3);
  assert.is(cond(rolloutStatus(d, [n], n, T0).conditions, 'Progressing'), undefined);
});

test('ReplicaFailure is copied from the new ReplicaSet first, and removed once gone', () => {
  const fail: Condition = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: '2024-05-01T09:00:00Z' };
  const n = rs('web-new', 1, 0, 0, { conditions: [fail] });
  const s = rolloutStatus(deployment(), [n], n, T0);
  const c = cond(s.conditions, 'ReplicaFailure')!;
  assert.equal([c.status, c.reason, c.message, c.lastUpdateTime], ['True', 'FailedCreate', 'quota', '2024-05-01T09:00:00Z']);
  const again = rolloutStatus(deployment({}, s), [rs('web-new', 1, 0, 0)], rs('web-new', 1, 0, 0), T0);
  assert.is(cond(again.conditions, 'ReplicaFailure'), undefined);
});

test('progressCheckInMs: time left to the deadline plus slack; none once complete or timed out', () => {
  const upd: Condition = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2024-05-01T10:00:00Z', lastTransitionTime: '2024-05-01T10:00:00Z' };
  const d = deployment();
  const s = { observedGeneration: 1, replicas: 3, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 2, conditions: [upd] };
  assert.is(progressCheckInMs(d, s, at(10), 1000), 60_000 - 10_400 + 1000);
  assert.is(progressCheckInMs(d, s, at(100), 5), 5, 'already past: look again at once');
  assert.is(progressCheckInMs(d, { ...s, conditions: [{ ...upd, reason: 'ProgressDeadlineExceeded', status: 'False' }] }, at(10), 0), undefined);
  assert.is(progressCheckInMs(d, { ...s, updatedReplicas: 3, availableReplicas: 3 }, at(10), 0), undefined);
});

test('pause and resume reset Progressing to Unknown; a timed-out rollout keeps saying so', () => {
  const paused = pausedConditions(deployment({ paused: true }), T0)!;
  assert.equal([paused[0].status, paused[0].reason, paused[0].message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  assert.is(pausedConditions(deployment({ paused: true }, { conditions: paused }), T0), undefined, 'already noted');
  const resumed = pausedConditions(deployment({}, { conditions: paused }), T0)!;
  assert.equal([resumed[0].status, resumed[0].reason, resumed[0].message], ['Unknown', 'DeploymentResumed', 'Deployment is resumed']);
  const timedOut: Condition = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' };
  assert.is(pausedConditions(deployment({ paused: true }, { conditions: [timedOut] }), T0), undefined);
});

test.run();
