// The Job controller's pure parts: completion-index intervals, the pod-failure backoff, podFailurePolicy and
// successPolicy matching, each as kube-controller-manager computes them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { firstPendingIndexes, formatIndexes, parseIndexes, totalOf, withIndexes } from '../../src/controllers/job-indexes.ts';
import { nextBackoffRecord, remainingBackoffMs } from '../../src/controllers/job-backoff.ts';
import { matchPodFailurePolicy, matchSuccessPolicy } from '../../src/controllers/job-pod-failure-policy.ts';
import { invalidJob, jobParams } from '../../src/controllers/job.ts';

test('completedIndexes: two neighbours are written 3,4, three or more as a range; parsing stops at completions', () => {
  assert.is(formatIndexes(withIndexes([], [0, 1])), '0,1');
  assert.is(formatIndexes(withIndexes([], [5, 0, 1, 2, 7, 8])), '0-2,5,7,8');
  assert.is(formatIndexes(withIndexes(parseIndexes('0-2,5', 10), [3, 4])), '0-5');
  assert.equal(parseIndexes('1,3-9,x,12', 6), [{ first: 1, last: 1 }, { first: 3, last: 5 }]);
  assert.is(totalOf(parseIndexes('0-2,5', 10)), 4);
  assert.equal(firstPendingIndexes(parseIndexes('0,2', 6), [1, 4], 3, 6), [3, 5]);
});

const failedAt = (iso: string, exitCode = 1, conditions: unknown[] = []): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
  status: { phase: 'Failed', conditions, containerStatuses: [{ name: 'main', state: { terminated: { exitCode, finishedAt: iso } } }] },
});
const succeededAt = (iso: string): KubeObject => ({ ...failedAt(iso, 0), status: { phase: 'Succeeded', containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 0, finishedAt: iso } } }] } });

test('pod-failure backoff: 10 s doubling per failure since the last success, capped, counted from the last failure', () => {
  const t = { baseMs: 10_000, maxMs: 360_000 };
  const t0 = Date.parse('2024-05-01T10:00:00Z');
  let rec = nextBackoffRecord(undefined, [], [failedAt('2024-05-01T10:00:00Z')]);
  assert.equal(rec, { failuresAfterLastSuccess: 1, lastFailureTime: t0 });
  assert.is(remainingBackoffMs(rec, t0 + 4_000, t), 6_000);
  rec = nextBackoffRecord(rec, [], [failedAt('2024-05-01T10:00:20Z'), failedAt('2024-05-01T10:00:30Z')]);
  assert.is(rec.failuresAfterLastSuccess, 3);
  assert.is(remainingBackoffMs(rec, t0 + 30_000, t), 40_000, '10 s · 2² after the third failure');
  rec = { failuresAfterLastSuccess: 12, lastFailureTime: t0 };
  assert.is(remainingBackoffMs(rec, t0, t), 360_000, 'capped at 6 minutes');
  assert.is(remainingBackoffMs(rec, t0 + 400_000, t), 0);
  // A success resets it; only failures after the success count.
  assert.equal(nextBackoffRecord(rec, [succeededAt('2024-05-01T10:01:00Z')], []), { failuresAfterLastSuccess: 0 });
  assert.equal(nextBackoffRecord(rec, [succeededAt('2024-05-01T10:01:00Z')], [failedAt('2024-05-01T10:00:50Z'), failedAt('2024-05-01T10:01:10Z')]),
    { failuresAfterLastSuccess: 1, lastFailureTime: Date.parse('2024-05-01T10:01:10Z') });
});

test('podFailurePolicy: the first matching rule decides; exit code 0 and running containers never match; conditions too', () => {
  const policy = { rules: [
    { action: 'Ignore' as const, onPodConditions: [{ type: 'DisruptionTarget' }] },
    { action: 'FailJob' as const, onExitCodes: { containerName: 'main', operator: 'In' as const, values: [42] } },
    { action: 'Count' as const, onExitCodes: { operator: 'NotIn' as const, values: [0, 42] } },
  ] };
  assert.equal(matchPodFailurePolicy(policy, failedAt('2024-05-01T10:00:00Z', 42)), {
    failJobMessage: 'Container main for pod default/p failed with exit code 42 matching FailJob rule at index 1', countFailed: true, action: 'FailJob',
  });
  assert.equal(matchPodFailurePolicy(policy, failedAt('2024-05-01T10:00:00Z', 7)), { countFailed: true, action: 'Count' });
  assert.equal(matchPodFailurePolicy(policy, failedAt('2024-05-01T10:00:00Z', 42, [{ type: 'DisruptionTarget', status: 'True' }])), { countFailed: false, action: 'Ignore' });
  assert.equal(matchPodFailurePolicy(undefined, failedAt('2024-05-01T10:00:00Z', 42)), { countFailed: true });
  const failJobOnCondition = { rules: [{ action: 'FailJob' as const, onPodConditions: [{ type: 'ConfigIssue', status: 'True' }] }] };
  assert.is(matchPodFailurePolicy(failJobOnCondition, failedAt('2024-05-01T10:00:00Z', 1, [{ type: 'ConfigIssue', status: 'True' }])).failJobMessage,
    'Pod default/p has condition ConfigIssue matching FailJob rule at index 0');
});

test('successPolicy: indexes all required unless succeededCount; a count alone counts any index', () => {
  const done = withIndexes([], [0, 1, 2, 4]);
  assert.is(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-2' }] }, 10, done), 'Matched rules at index 0');
  assert.is(matchSuccessPolicy({ rules: [{ succeededIndexes: '3-5' }] }, 10, done), undefined);
  assert.is(matchSuccessPolicy({ rules: [{ succeededIndexes: '3-5' }, { succeededIndexes: '2-5', succeededCount: 2 }] }, 10, done), 'Matched rules at index 1');
  assert.is(matchSuccessPolicy({ rules: [{ succeededCount: 5 }, { succeededCount: 4 }] }, 10, done), 'Matched rules at index 1');
  assert.is(matchSuccessPolicy({ rules: [{ succeededCount: 1 }] }, 10, []), undefined);
});

test('defaults and refusals as the API server has them', () => {
  assert.equal([jobParams({}).completions, jobParams({}).parallelism, jobParams({}).backoffLimit], [1, 1, 6]);
  assert.equal([jobParams({ parallelism: 3 }).completions, jobParams({ parallelism: 3 }).parallelism], [undefined, 3], 'a work queue');
  const j = (spec: Record<string, unknown>, restartPolicy?: string): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { ...spec, template: { spec: { ...(restartPolicy && { restartPolicy }), containers: [] } } } });
  assert.is(invalidJob(j({}, 'Never')), undefined);
  assert.is(invalidJob(j({})), 'spec.template.spec.restartPolicy: Required value: supported values: "OnFailure", "Never"');
  assert.is(invalidJob(j({ completionMode: 'Indexed' }, 'Never')), 'spec.completions: Required value: when completion mode is Indexed');
  assert.is(invalidJob(j({ podFailurePolicy: { rules: [] } }, 'OnFailure')), 'spec.podFailurePolicy: Invalid value: only "Never" is supported when podFailurePolicy is specified');
});

test.run();
