// The Job controller against a real store; the test plays scheduler and kubelet by writing pod status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { startControllers, type ControllersOptions } from '../../src/controllers/manager.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';

test.after.each(cleanup);

const RANDOM5 = '[bcdfghjklmnpqrstvwxz2456789]{5}';

export function job(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' },
    spec: {
      ...spec,
      template: {
        metadata: { labels: { app: name }, annotations: { team: 'blue' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'host', command: ['sh', '-c', 'true'] }], ...podSpec },
      },
    },
  };
}

async function withJobs<T>(store: Store, fn: () => Promise<T>, extra: Partial<ControllersOptions> = {}): Promise<T> {
  const logs: string[] = [];
  const c = await startControllers({
    store, only: ['job'], log: (m) => logs.push(m), queue: { baseDelayMs: 5, maxDelayMs: 50 },
    job: { podFailureBackoff: { baseMs: 30, maxMs: 120 } }, ...extra,
  });
  try {
    return await fn();
  } finally {
    await c.stop();
  }
}

const jobPods = async (store: Store, jobName: string) =>
  (await store.list('Pod')).filter((p) => p.metadata.labels?.['batch.kubernetes.io/job-name'] === jobName);
const running = (ps: KubeObject[]) => ps.filter((p) => !p.status?.phase || p.status.phase === 'Pending' || p.status.phase === 'Running').filter((p) => !p.metadata.deletionTimestamp);
const jobStatus = async (store: Store, name: string) => (await store.get('Job', 'default', name))?.status;
const conditions = (s: any) => (s?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason, c.message]);
const events = async (store: Store, reason: string) => (await store.list('Event')).filter((e) => e.reason === reason).map((e) => `${e.type} ${e.message}`).sort();
const finalizers = (p: KubeObject) => (p.metadata as any).finalizers;

/** What the kubelet writes when the pod's one container exits. */
async function finish(store: Store, pod: KubeObject, exitCode: number, at = new Date()): Promise<KubeObject> {
  const finishedAt = at.toISOString().replace(/\.\d+Z$/, 'Z');
  return store.updateStatus('Pod', 'default', pod.metadata.name, {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: finishedAt }],
    containerStatuses: [{ name: 'main', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt } } }],
  });
}

async function podsRunning(store: Store, name: string, n: number): Promise<KubeObject[]> {
  return until(async () => { const ps = running(await jobPods(store, name)); return ps.length === n && ps; }, `${n} running pod(s) of ${name}`);
}

test('two completions one at a time: pods named <job>-<5 chars> with the Job labels and finalizer, then SuccessCriteriaMet and Complete', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    const j = await store.create(job('pi', { completions: 2 }));
    const [first] = await podsRunning(store, 'pi', 1);
    assert.match(first.metadata.name, new RegExp(`^pi-${RANDOM5}$`));
    assert.equal(first.metadata.labels, {
      app: 'pi', 'batch.kubernetes.io/controller-uid': j.metadata.uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': j.metadata.uid, 'job-name': 'pi',
    });
    assert.equal(first.metadata.annotations, { team: 'blue' });
    assert.equal(finalizers(first), ['batch.kubernetes.io/job-tracking']);
    assert.equal(first.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: j.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(first.spec, j.spec.template.spec);
    const s1 = await until(async () => { const s = await jobStatus(store, 'pi'); return s?.active === 1 && s; }, 'active 1');
    assert.ok(s1.startTime, 'started');
    assert.equal([s1.ready, s1.terminating, s1.uncountedTerminatedPods], [0, 0, {}]);

    await finish(store, first, 0);
    const [second] = await until(async () => { const ps = running(await jobPods(store, 'pi')); return ps.length === 1 && ps[0].metadata.name !== first.metadata.name && ps; }, 'the second pod');
    await finish(store, second, 0);
    const done = await until(async () => { const s = await jobStatus(store, 'pi'); return s?.completionTime && s; }, 'Complete');
    assert.equal(conditions(done), [
      ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    assert.equal({ ...done, conditions: undefined, startTime: undefined, completionTime: undefined },
      { conditions: undefined, startTime: undefined, completionTime: undefined, succeeded: 2, terminating: 0, uncountedTerminatedPods: {}, ready: 0 });
    assert.ok(done.conditions.every((c: any) => c.lastProbeTime && c.lastTransitionTime));
    const pods = await jobPods(store, 'pi');
    assert.is(pods.length, 2, 'finished pods are kept');
    assert.ok(pods.every((p) => finalizers(p) === undefined), 'counted pods lose the tracking finalizer');
    assert.equal(await events(store, 'Completed'), ['Normal Job completed']);
    assert.equal((await events(store, 'SuccessfulCreate')).length, 2);
  });
});

test('failures within backoffLimit are replaced after the pod-failure backoff and counted; then success', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('flaky', { backoffLimit: 2 }));
    const seen = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const [pod] = await until(async () => { const ps = running(await jobPods(store, 'flaky')).filter((p) => !seen.has(p.metadata.name)); return ps.length === 1 && ps; }, `attempt ${i + 1}`);
      seen.add(pod.metadata.name);
      await finish(store, pod, 1);
      await until(async () => (await jobStatus(store, 'flaky'))?.failed === i + 1, `${i + 1} failure(s) counted`);
    }
    const [last] = await until(async () => { const ps = running(await jobPods(store, 'flaky')).filter((p) => !seen.has(p.metadata.name)); return ps.length === 1 && ps; }, 'attempt 3');
    await finish(store, last, 0);
    const s = await until(async () => { const st = await jobStatus(store, 'flaky'); return st?.completionTime && st; }, 'Complete');
    assert.equal([s.succeeded, s.failed], [1, 2]);
    assert.equal(conditions(s).map((c: string[]) => c[0]), ['SuccessCriteriaMet', 'Complete']);
  });
});

test('beyond backoffLimit: FailureTarget then Failed with BackoffLimitExceeded, a Warning event, no more pods', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('doomed', { backoffLimit: 1, parallelism: 1, completions: 3 }));
    const seen = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const [pod] = await until(async () => { const ps = running(await jobPods(store, 'doomed')).filter((p) => !seen.has(p.metadata.name)); return ps.length === 1 && ps; }, `attempt ${i + 1}`);
      seen.add(pod.metadata.name);
      await finish(store, pod, 1);
    }
    const s = await until(async () => { const st = await jobStatus(store, 'doomed'); return st?.conditions?.some((c: any) => c.type === 'Failed') && st; }, 'Failed');
    assert.equal(conditions(s), [
      ['FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    assert.equal([s.failed, s.succeeded, s.active, s.completionTime], [2, undefined, undefined, undefined]);
    assert.equal(await events(store, 'BackoffLimitExceeded'), ['Warning Job has reached the specified backoff limit']);
    assert.is((await jobPods(store, 'doomed')).length, 2, 'no third pod');
  });
});

test('Indexed: pods <job>-<index>-<5 chars> carry the index (annotation, label, hostname, JOB_COMPLETION_INDEX from the downward API); completedIndexes', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const pods = await podsRunning(store, 'idx', 3);
    const byIndex = new Map(pods.map((p) => [Number(p.metadata.annotations!['batch.kubernetes.io/job-completion-index']), p]));
    assert.equal([...byIndex.keys()].sort(), [0, 1, 2]);
    for (const [ix, p] of byIndex) {
      assert.match(p.metadata.name, new RegExp(`^idx-${ix}-${RANDOM5}$`));
      assert.is(p.metadata.labels!['batch.kubernetes.io/job-completion-index'], String(ix));
      assert.is(p.spec.hostname, `idx-${ix}`);
      assert.equal(p.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } }]);
    }
    await finish(store, byIndex.get(1)!, 0);
    assert.is((await until(async () => { const s = await jobStatus(store, 'idx'); return s?.completedIndexes && s; }, 'index 1')).completedIndexes, '1');
    await finish(store, byIndex.get(0)!, 0);
    await until(async () => (await jobStatus(store, 'idx'))?.completedIndexes === '0,1', 'indexes 0,1');
    await finish(store, byIndex.get(2)!, 0);
    const s = await until(async () => { const st = await jobStatus(store, 'idx'); return st?.completionTime && st; }, 'Complete');
    assert.equal([s.completedIndexes, s.succeeded], ['0-2', 3]);
  });
});

test('Indexed: a failed index gets a new pod with the same index', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('redo', { completions: 2, parallelism: 2, completionMode: 'Indexed' }));
    const pods = await podsRunning(store, 'redo', 2);
    const one = pods.find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '1')!;
    await finish(store, one, 1);
    const again = await until(async () => {
      const ps = running(await jobPods(store, 'redo')).filter((p) => p.metadata.name !== one.metadata.name && p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '1');
      return ps.length === 1 && ps[0];
    }, 'a new pod for index 1');
    assert.match(again.metadata.name, new RegExp(`^redo-1-${RANDOM5}$`));
    await until(async () => (await jobStatus(store, 'redo'))?.failed === 1, 'the failure counted');
  });
});

test('successPolicy: the required index succeeding ends the Job (SuccessPolicy), the other pods are stopped, not failed', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('leader', { completions: 3, parallelism: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0' }] } }));
    const pods = await podsRunning(store, 'leader', 3);
    await finish(store, pods.find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '0')!, 0);
    const s = await until(async () => { const st = await jobStatus(store, 'leader'); return st?.completionTime && st; }, 'Complete');
    assert.equal(conditions(s), [['SuccessCriteriaMet', 'True', 'SuccessPolicy', 'Matched rules at index 0'], ['Complete', 'True', 'SuccessPolicy', 'Matched rules at index 0']]);
    assert.equal([s.succeeded, s.failed, s.completedIndexes], [1, undefined, '0']);
    assert.is((await jobPods(store, 'leader')).length, 1, 'the unbound running pods were deleted');
  });
});

test('podFailurePolicy: Ignore does not count (the pod is replaced), FailJob fails the Job with its message', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('pfp', {
      backoffLimit: 0,
      podFailurePolicy: { rules: [
        { action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } },
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      ] },
    }));
    const [first] = await podsRunning(store, 'pfp', 1);
    await finish(store, first, 3);
    const [second] = await until(async () => { const ps = running(await jobPods(store, 'pfp')).filter((p) => p.metadata.name !== first.metadata.name); return ps.length === 1 && ps; }, 'a replacement: the ignored failure is not counted');
    assert.not.ok((await jobStatus(store, 'pfp')).failed);
    await finish(store, second, 42);
    const s = await until(async () => { const st = await jobStatus(store, 'pfp'); return st?.conditions?.some((c: any) => c.type === 'Failed') && st; }, 'Failed');
    const msg = `Container main for pod default/${second.metadata.name} failed with exit code 42 matching FailJob rule at index 1`;
    assert.equal(conditions(s), [['FailureTarget', 'True', 'PodFailurePolicy', msg], ['Failed', 'True', 'PodFailurePolicy', msg]]);
    assert.is(s.failed, 1);
  });
});

test('activeDeadlineSeconds: past it the running pods are stopped and the Job fails with DeadlineExceeded', async () => {
  const { store } = await freshStore();
  let t = Date.now();
  await withJobs(store, async () => {
    await store.create(job('slow', { activeDeadlineSeconds: 30 }));
    const [pod] = await podsRunning(store, 'slow', 1);
    t += 31_000;
    // Any change makes the controller look again; it would also come back by itself after the deadline.
    await store.updateStatus('Pod', 'default', pod.metadata.name, { phase: 'Running' });
    const s = await until(async () => { const st = await jobStatus(store, 'slow'); return st?.conditions?.some((c: any) => c.type === 'Failed') && st; }, 'Failed');
    assert.equal(conditions(s).map((c: string[]) => [c[0], c[2], c[3]]), [
      ['FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
      ['Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
    ]);
    assert.equal([s.failed, s.active], [1, undefined], 'the stopped pod counts as failed');
    assert.is((await jobPods(store, 'slow')).length, 0, 'the unbound pod is deleted');
  }, { now: () => new Date(t) });
});

test('suspend: no pods and Suspended (JobSuspended) without a start time; resuming starts pods, Suspended False (JobResumed)', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('later', { suspend: true, parallelism: 2, completions: 4 }));
    const s = await until(async () => { const st = await jobStatus(store, 'later'); return st?.conditions && st; }, 'Suspended');
    assert.equal(conditions(s), [['Suspended', 'True', 'JobSuspended', 'Job suspended']]);
    assert.is(s.startTime, undefined);
    assert.is((await jobPods(store, 'later')).length, 0);
    const cur = (await store.get('Job', 'default', 'later'))!;
    await store.update({ ...cur, spec: { ...cur.spec, suspend: false } });
    await podsRunning(store, 'later', 2);
    const r = await until(async () => { const st = await jobStatus(store, 'later'); return st?.startTime && st; }, 'resumed');
    assert.equal(conditions(r), [['Suspended', 'False', 'JobResumed', 'Job resumed']]);
    // Suspending again deletes the running pods without counting them as failures.
    const again = (await store.get('Job', 'default', 'later'))!;
    await store.update({ ...again, spec: { ...again.spec, suspend: true } });
    await until(async () => (await jobPods(store, 'later')).length === 0, 'pods deleted');
    const s2 = await until(async () => { const st = await jobStatus(store, 'later'); return conditions(st)[0]?.[1] === 'True' && st; }, 'suspended again');
    assert.is(s2.failed, undefined);
    assert.equal(await events(store, 'Suspended'), ['Normal Job suspended']);
  });
});

test('a pod template with restartPolicy Always is refused with the API server\'s message, and no pod is made', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('bad', {}, { restartPolicy: 'Always' }));
    const ev = await until(async () => { const e = await events(store, 'FailedCreate'); return e.length && e; }, 'FailedCreate');
    assert.equal(ev, ['Warning Error creating: Pod "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
    assert.is((await jobPods(store, 'bad')).length, 0);
  });
});

test('a running pod removed by someone else is counted as failed, and replaced', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('lost'));
    const [pod] = await podsRunning(store, 'lost', 1);
    await store.delete('Pod', 'default', pod.metadata.name); // unbound: removed at once, finalizer or not
    await until(async () => (await jobStatus(store, 'lost'))?.failed === 1, 'counted as failed');
    await until(async () => running(await jobPods(store, 'lost')).length === 1, 'replaced');
  });
});

test('restartPolicy OnFailure: restarts of running pods reaching backoffLimit fail the Job', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('crashy', { backoffLimit: 2 }, { restartPolicy: 'OnFailure' }));
    const [pod] = await podsRunning(store, 'crashy', 1);
    await store.updateStatus('Pod', 'default', pod.metadata.name, { phase: 'Running', containerStatuses: [{ name: 'main', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] });
    const s = await until(async () => { const st = await jobStatus(store, 'crashy'); return st?.conditions?.some((c: any) => c.type === 'Failed') && st; }, 'Failed');
    assert.is(conditions(s)[1][2], 'BackoffLimitExceeded');
  });
});

test('ttlSecondsAfterFinished: the finished Job is deleted, and its pods with it', async () => {
  const { store } = await freshStore();
  await withJobs(store, async () => {
    await store.create(job('once', { ttlSecondsAfterFinished: 0 }));
    const [pod] = await podsRunning(store, 'once', 1);
    await finish(store, pod, 0);
    await until(async () => !(await store.get('Job', 'default', 'once')), 'the Job deleted');
    await until(async () => (await jobPods(store, 'once')).length === 0, 'its pods collected');
  }, { only: ['job', 'ttl-after-finished', 'garbage-collector'] });
});

test('a restart counts each pod once: pods finished while the controller was down, and one caught between the two status writes', async () => {
  const { store } = await freshStore();
  let pods: KubeObject[] = [];
  await withJobs(store, async () => {
    await store.create(job('batch', { completions: 4, parallelism: 4 }));
    pods = await podsRunning(store, 'batch', 4);
    await finish(store, pods[0], 0);
    await until(async () => (await jobStatus(store, 'batch'))?.succeeded === 1, 'one counted');
  });
  // Down: one pod finishes; another was listed as uncounted but kept its finalizer (a crash between the writes).
  await finish(store, pods[1], 0);
  await finish(store, pods[2], 0);
  const j = (await store.get('Job', 'default', 'batch'))!;
  await store.updateStatus('Job', 'default', 'batch', { ...j.status, uncountedTerminatedPods: { succeeded: [pods[2].metadata.uid] } });
  await withJobs(store, async () => {
    await until(async () => (await jobStatus(store, 'batch'))?.succeeded === 3, 'three counted');
    await finish(store, pods[3], 0);
    const s = await until(async () => { const st = await jobStatus(store, 'batch'); return st?.completionTime && st; }, 'Complete');
    assert.equal([s.succeeded, s.failed, s.uncountedTerminatedPods], [4, undefined, {}]);
    assert.is((await jobPods(store, 'batch')).length, 4, 'no pod was created again');
    assert.ok((await jobPods(store, 'batch')).every((p) => finalizers(p) === undefined));
  });
});

test.run();
