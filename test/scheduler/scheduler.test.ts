// The scheduler against a real store: bindings, spreading, selectors, the Unschedulable verdict, and retries when
// room appears. Delays are shortened; every wait is for a condition.
import { lagging as laggingStore } from '../support/lagging-store.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getCondition } from '../../src/model/conditions.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { startScheduler, type Scheduler } from '../../src/scheduler/scheduler.ts';
import type { PodBinding, Store } from '../../src/store/store.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { addNode, node, pod } from './helpers.ts';

let running: Scheduler[] = [];

async function setup(wrap: (s: Store) => Store = (s) => s) {
  const { store: real } = await freshStore();
  const store = wrap(real);
  const logs: string[] = [];
  const start = () => startScheduler({ store, backoffInitialMs: 10, backoffMaxMs: 40, log: (m) => logs.push(m) }).then((s) => { running.push(s); return s; });
  return { store, real, logs, start };
}

test.after.each(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await cleanup();
});

const nodeOf = async (store: Store, name: string) => (await store.get('Pod', 'default', name))?.spec?.nodeName as string | undefined;
const bound = (store: Store, name: string) => until(() => nodeOf(store, name), `${name} to be bound`);
const scheduled = async (store: Store, name: string) => getCondition((await store.get('Pod', 'default', name))?.status?.conditions, 'PodScheduled');
const eventsFor = async (store: Store, name: string, reason: string) =>
  (await store.list('Event')).filter((e) => (e.involvedObject as { name: string }).name === name && e.reason === reason);

test('binds a pod to the node with room, marks it PodScheduled and says so in an event', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { memory: '512Mi' }));
  await addNode(store, node('node-2', { memory: '2Gi' }));
  await start();
  const created = await store.create(pod('web-abc', { memory: '1Gi' }));
  assert.is(await bound(store, 'web-abc'), 'node-2');
  const p = await until(async () => { const p = await store.get('Pod', 'default', 'web-abc'); return getCondition(p?.status?.conditions, 'PodScheduled') && p; }, 'PodScheduled');
  assert.is(p.status.phase, 'Pending');
  assert.equal({ ...getCondition(p.status.conditions, 'PodScheduled'), lastTransitionTime: undefined }, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: undefined });
  const [ev] = await until(() => eventsFor(store, 'web-abc', 'Scheduled').then((e) => e.length > 0 && e), 'Scheduled event');
  assert.is(ev.type, 'Normal');
  assert.is(ev.message, 'Successfully assigned default/web-abc to node-2');
  assert.is((ev.involvedObject as { uid: string }).uid, created.metadata.uid);
});

test('spreads four replicas of a workload over two nodes, two each', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1'));
  await addNode(store, node('node-2'));
  await start();
  const names = ['web-1', 'web-2', 'web-3', 'web-4'];
  for (const n of names) await store.create(pod(n, { owner: 'rs-uid', cpu: '100m', memory: '64Mi' }));
  const placed = await Promise.all(names.map((n) => bound(store, n)));
  assert.equal(placed.filter((n) => n === 'node-1').length, 2, placed.join());
  assert.equal(placed.filter((n) => n === 'node-2').length, 2, placed.join());
});

test('respects nodeSelector', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1'));
  await addNode(store, node('node-2', { labels: { disk: 'ssd' } }));
  await addNode(store, node('node-3'));
  await start();
  for (const n of ['db-1', 'db-2']) await store.create(pod(n, { nodeSelector: { disk: 'ssd' } }));
  assert.is(await bound(store, 'db-1'), 'node-2');
  assert.is(await bound(store, 'db-2'), 'node-2');
});

test('a pod with required pod affinity waits, and is bound beside the pod it selects as soon as that one is bound', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { labels: { 'topology.kubernetes.io/zone': 'a' } }));
  await addNode(store, node('node-2', { labels: { 'topology.kubernetes.io/zone': 'b', disk: 'ssd' } }));
  await start();
  const web = pod('web');
  web.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'topology.kubernetes.io/zone' }] } };
  await store.create(web);
  await until(async () => (await scheduled(store, 'web'))?.message?.startsWith("0/2 nodes are available: 2 node(s) didn't match pod affinity rules. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."), 'web unschedulable');
  const cache = pod('cache', { nodeSelector: { disk: 'ssd' } });
  cache.metadata.labels = { app: 'cache' };
  await store.create(cache);
  assert.is(await bound(store, 'cache'), 'node-2');
  assert.is(await bound(store, 'web'), 'node-2', 'woken by the binding, not by the 5-minute retry');
});

test('a pod too big for any node is Unschedulable with the Kubernetes message, then bound once a node with room joins', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { memory: '1Gi' }));
  await addNode(store, node('node-2', { memory: '1Gi' }));
  await start();
  await store.create(pod('big', { memory: '2Gi' }));
  const cond = await until(() => scheduled(store, 'big'), 'a PodScheduled verdict');
  assert.equal({ ...cond, lastTransitionTime: undefined }, {
    type: 'PodScheduled', status: 'False', reason: 'Unschedulable',
    message: '0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..', lastProbeTime: null, lastTransitionTime: undefined,
  });
  assert.is((await store.get('Pod', 'default', 'big'))?.status.phase, 'Pending');
  const [ev] = await until(() => eventsFor(store, 'big', 'FailedScheduling').then((e) => e.length > 0 && e), 'FailedScheduling event');
  assert.is(ev.type, 'Warning');
  assert.is(ev.message, '0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..');

  await addNode(store, node('node-3', { memory: '4Gi' }));
  assert.is(await bound(store, 'big'), 'node-3');
  assert.is((await scheduled(store, 'big'))?.status, 'True');
  assert.is((await eventsFor(store, 'big', 'FailedScheduling')).length, 1, 'repeats folded into one event');
});

test('a pending pod is bound once a pod holding the room is removed, not while it is only being deleted', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { memory: '1Gi' }));
  await start();
  await store.create(pod('old', { memory: '768Mi' }));
  assert.is(await bound(store, 'old'), 'node-1');
  await store.create(pod('new', { memory: '768Mi' }));
  await until(async () => (await scheduled(store, 'new'))?.reason === 'Unschedulable', 'new to be Unschedulable');
  const marked = await store.delete('Pod', 'default', 'old');
  assert.ok(marked?.metadata.deletionTimestamp, 'a bound pod is only marked');
  // Growing the node wakes the pending pod: a retry that still finds the marked pod holding its memory.
  await store.updateStatus('Node', undefined, 'node-1', node('node-1', { memory: '1100Mi' }).status);
  await until(async () => (await eventsFor(store, 'new', 'FailedScheduling')).some((e) => e.message === '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..' && Number(e.count) >= 2), 'a second failed attempt');
  assert.is(await nodeOf(store, 'new'), undefined);
  await store.delete('Pod', 'default', 'old', { gracePeriodSeconds: 0 }); // the node has stopped it
  assert.is(await bound(store, 'new'), 'node-1');
});

test('a pending pod is bound once a pod holding the room finishes', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { memory: '1Gi' }));
  await start();
  await store.create(pod('job', { memory: '768Mi' }));
  assert.is(await bound(store, 'job'), 'node-1');
  await store.create(pod('next', { memory: '768Mi' }));
  await until(async () => (await scheduled(store, 'next'))?.reason === 'Unschedulable', 'next to be Unschedulable');
  const job = (await store.get('Pod', 'default', 'job'))!;
  await store.updateStatus('Pod', 'default', 'job', { ...job.status, phase: 'Succeeded' }); // as its node reports it
  assert.is(await bound(store, 'next'), 'node-1');
});

test('two pods racing for the last room: only one is bound', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { memory: '1Gi' }));
  await start();
  await Promise.all([store.create(pod('a', { memory: '600Mi' })), store.create(pod('b', { memory: '600Mi' }))]);
  await until(async () => (await scheduled(store, 'a')) && (await scheduled(store, 'b')), 'both decided');
  const placed = [await nodeOf(store, 'a'), await nodeOf(store, 'b')];
  assert.equal(placed.filter(Boolean), ['node-1'], `placed: ${placed}`);
});

const lagging = (ms: number) => (real: Store): Store => laggingStore(real, ms);

test('with a lagging watch, a pod just bound still counts for the next decision', async () => {
  const { store, start } = await setup(lagging(100));
  await addNode(store, node('node-1', { memory: '1Gi' }));
  await addNode(store, node('node-2', { memory: '1Gi' }));
  await start();
  for (const n of ['a', 'b', 'c']) await store.create(pod(n, { memory: '600Mi' }));
  await until(async () => (await scheduled(store, 'a')) && (await scheduled(store, 'b')) && (await scheduled(store, 'c')), 'all decided');
  const placed = await Promise.all(['a', 'b', 'c'].map((n) => nodeOf(store, n)));
  assert.equal(placed.filter(Boolean).sort(), ['node-1', 'node-2'], `placed: ${placed}`);
});

test('a pod changed between read and bind is bound from its new state after a conflict', async () => {
  let raced = false;
  const { store, start, logs } = await setup((real) => new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'bindPods') {
        return async (bindings: PodBinding[]) => {
          if (!raced) { // someone relabels the pod just before our binding lands
            raced = true;
            const cur = (await target.get('Pod', 'default', bindings[0].name))!;
            await target.update({ ...cur, metadata: { ...cur.metadata, labels: { touched: 'yes' } } });
          }
          return target.bindPods(bindings);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }));
  await addNode(store, node('node-1'));
  await start();
  await store.create(pod('web'));
  assert.is(await bound(store, 'web'), 'node-1');
  assert.is((await store.get('Pod', 'default', 'web'))?.metadata.labels?.touched, 'yes', 'the other writer\'s change survives');
  assert.ok(logs.some((l) => /web: .*resourceVersion.*will retry/.test(l)), logs.join('\n'));
});

test('leaves alone pods with a node name, for another scheduler, or finished', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1'));
  await start();
  await store.create(pod('pinned', { nodeName: 'elsewhere' }));
  await store.create(pod('other', { schedulerName: 'my-scheduler' }));
  await store.create(pod('done', { phase: 'Succeeded' }));
  await store.create(pod('mine', { schedulerName: 'default-scheduler' }));
  assert.is(await bound(store, 'mine'), 'node-1'); // decided after the others: they were queued first if at all
  assert.is(await nodeOf(store, 'pinned'), 'elsewhere');
  assert.is(await nodeOf(store, 'other'), undefined);
  assert.is(await scheduled(store, 'other'), undefined);
  assert.is(await nodeOf(store, 'done'), undefined);
  assert.is(await scheduled(store, 'done'), undefined);
});

test('with no nodes, says so as Kubernetes does; binds when the first node registers', async () => {
  const { store, start } = await setup();
  await start();
  await store.create(pod('early'));
  await until(async () => (await scheduled(store, 'early'))?.message === 'no nodes available to schedule pods', 'the no-nodes verdict');
  await addNode(store, node('node-1'));
  assert.is(await bound(store, 'early'), 'node-1');
});

test('pods pending before the scheduler starts are scheduled on start', async () => {
  const { store, start } = await setup();
  await addNode(store, node('node-1', { ready: false }));
  await store.create(pod('waiting'));
  await start();
  await until(async () => (await scheduled(store, 'waiting'))?.message === '0/1 nodes are available: 1 node(s) were not ready. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..', 'not-ready verdict');
  await store.updateStatus('Node', undefined, 'node-1', node('node-1').status);
  assert.is(await bound(store, 'waiting'), 'node-1');
});

test.run();
