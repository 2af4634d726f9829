// The controller loop and the manager: retries, timed requeues, clean stops, and the controllers together.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runController, type ControllerSpec } from '../../src/controllers/controller.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import type { EndpointSubset } from '../../src/controllers/endpoint-subsets.ts';
import { StoreError } from '../../src/store/store.ts';
import { cleanup, cm, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { contextFor, isActive, replicaSet, runPod } from './helpers.ts';

test.after.each(cleanup);

test('runController: existing objects first; a throwing sync is retried with backoff and logged (conflicts quietly); a result requeues', async () => {
  const { store } = await freshStore();
  await store.create(cm('a'));
  const ctx = await contextFor(store, ['ConfigMap']);
  const calls: string[] = [];
  const spec: ControllerSpec = {
    name: 'test',
    kinds: ['ConfigMap'],
    watch(c, enqueue) { c.informer('ConfigMap').on({ add: (o) => enqueue(`default/${o.metadata.name}`) }); },
    async sync(key) {
      calls.push(key);
      const n = calls.filter((k) => k === key).length;
      if (key === 'default/a' && n === 1) throw new Error('disk full');
      if (key === 'default/a' && n === 2) throw new StoreError('Conflict', 'stale');
      if (key === 'default/b' && n === 1) return { requeueAfterMs: 10 };
    },
  };
  const run = runController(spec, ctx, { baseDelayMs: 5, maxDelayMs: 20 });
  try {
    await until(() => calls.filter((k) => k === 'default/a').length === 3, 'a synced three times');
    await store.create(cm('b'));
    await until(() => calls.filter((k) => k === 'default/b').length === 2, 'b requeued once by its result');
    assert.equal(ctx.logs, ['test: sync default/a failed (retry 1): disk full']);
    assert.is(run.queue.numRequeues('default/a'), 0, 'forgotten after success');
  } finally {
    await run.stop();
    ctx.stop();
  }
});

test('stop lets a sync in flight finish before resolving', async () => {
  const { store } = await freshStore();
  await store.create(cm('a'));
  const ctx = await contextFor(store, ['ConfigMap']);
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const steps: string[] = [];
  const spec: ControllerSpec = {
    name: 'slow', kinds: ['ConfigMap'], watch() {},
    async sync() { steps.push('started'); await gate; steps.push('finished'); },
  };
  const run = runController(spec, ctx);
  await until(() => steps.length === 1, 'the sync to start');
  const stopped = run.stop().then(() => steps.push('stopped'));
  await new Promise((r) => setImmediate(r));
  assert.equal(steps, ['started'], 'still waiting for the sync');
  release();
  await stopped;
  assert.equal(steps, ['started', 'finished', 'stopped']);
  ctx.stop();
});

test('startControllers rejects unknown names', async () => {
  const { store } = await freshStore();
  try {
    await startControllers({ store, only: ['replicaset', 'no-such-controller'] });
    assert.unreachable('should throw');
  } catch (err) {
    assert.match((err as Error).message, /unknown controllers: no-such-controller/);
  }
});

test('together: a ReplicaSet\'s pods become a Service\'s endpoints; deleting the ReplicaSet collects them', async () => {
  const { store } = await freshStore();
  const c = await startControllers({ store, log: () => {}, queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    await store.create({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    });
    await store.create(replicaSet('web', 2));
    const pods = await until(async () => { const p = await store.list('Pod'); return p.length === 2 && p; }, 'two pods');
    for (const [i, p] of pods.entries()) await runPod(store, p.metadata.name, { ready: true, ip: `127.1.0.${i + 2}` });
    const ep = await until(async () => { const e = await store.get('Endpoints', 'default', 'web'); return (e?.subsets as EndpointSubset[] | undefined)?.[0]?.addresses?.length === 2 && e; }, 'two endpoints');
    assert.equal((ep.subsets as EndpointSubset[])[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

    await store.delete('ReplicaSet', 'default', 'web');
    await until(async () => (await store.list('Pod')).filter(isActive).length === 0, 'its pods marked for deletion');
    await until(async () => !(await store.get('Endpoints', 'default', 'web'))?.subsets, 'no endpoints left');
    assert.equal(c.names, ['deployment', 'replicaset', 'replicationcontroller', 'endpoints', 'endpointslice-reflection', 'crd', 'garbage-collector', 'job', 'cronjob', 'ttl-after-finished', 'persistentvolume-binder', 'statefulset', 'daemonset', 'node-lifecycle', 'disruption', 'horizontal-pod-autoscaler']);
  } finally {
    await c.stop();
  }
});

test.run();
