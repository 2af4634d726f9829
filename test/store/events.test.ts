import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { clock, freshStore, cleanup, open } from './helpers.ts';

test.after.each(cleanup);

const podRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web-1', uid: 'uid-1' };
/** Events oldest first by lastTimestamp, as `reason/message xcount`. */
const summary = (evs: KubeObject[]) =>
  [...evs].sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp))).map((e) => `${e.reason}/${e.message} x${e.count}`);

test('recordEvent stores a Kubernetes Event', async () => {
  const c = clock('2024-05-01T10:00:00.900Z');
  const { store } = await freshStore({ now: c.now });
  await store.recordEvent(podRef, 'Warning', 'BackOff', 'Back-off restarting failed container');
  const [ev] = await store.list('Event', { namespace: 'prod' });
  assert.match(ev.metadata.name, /^web-1\.[0-9a-f]{16}$/);
  assert.equal(ev, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: ev.metadata.name, namespace: 'prod', uid: ev.metadata.uid, generation: 1, resourceVersion: '1', creationTimestamp: '2024-05-01T10:00:00Z',
    },
    involvedObject: podRef,
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    count: 1,
    firstTimestamp: '2024-05-01T10:00:00Z',
    lastTimestamp: '2024-05-01T10:00:00Z',
    source: { component: 'convergit' },
  });
  // Cluster-scoped objects' events go to default.
  await store.recordEvent({ kind: 'Namespace', name: 'prod' }, 'Normal', 'Created', 'created');
  const [nsEvent] = await store.list('Event', { namespace: 'default' });
  assert.equal(nsEvent.involvedObject, { kind: 'Namespace', name: 'prod' });
  await store.close();
});

test('a repeat increments count and lastTimestamp; any difference makes a new Event', async () => {
  const c = clock();
  const { store } = await freshStore({ now: c.now });
  await store.recordEvent(podRef, 'Warning', 'BackOff', 'back-off');
  c.advance(10_000);
  await store.recordEvent(podRef, 'Warning', 'BackOff', 'back-off');
  c.advance(10_000);
  await store.recordEvent(podRef, 'Warning', 'BackOff', 'back-off');
  const evs = await store.list('Event');
  assert.is(evs.length, 1);
  assert.is(evs[0].count, 3);
  assert.is(evs[0].firstTimestamp, '2024-05-01T10:00:00Z');
  assert.is(evs[0].lastTimestamp, '2024-05-01T10:00:20Z');

  await store.recordEvent({ ...podRef, uid: 'uid-2' }, 'Warning', 'BackOff', 'back-off'); // a new pod with the same name
  await store.recordEvent(podRef, 'Normal', 'BackOff', 'back-off');
  await store.recordEvent(podRef, 'Warning', 'Failed', 'back-off');
  await store.recordEvent(podRef, 'Warning', 'BackOff', 'other message');
  await store.recordEvent(podRef, 'Warning', 'BackOff', 'back-off');
  const all = await store.list('Event');
  assert.is(all.length, 5);
  assert.equal(all.map((e) => e.count).sort(), [1, 1, 1, 1, 4]);
  await store.close();
});

test('at most maxEvents are kept: the oldest by lastTimestamp go first, also after a restart', async () => {
  const c = clock();
  const { store, dir } = await freshStore({ now: c.now, maxEvents: 3 });
  for (const m of ['one', 'two', 'three']) {
    await store.recordEvent(podRef, 'Normal', 'R', m);
    c.advance(1000);
  }
  await store.recordEvent(podRef, 'Normal', 'R', 'one'); // a repeat makes 'one' the newest
  c.advance(1000);
  await store.recordEvent(podRef, 'Normal', 'R', 'four');
  assert.equal(summary(await store.list('Event')), ['R/three x1', 'R/one x2', 'R/four x1']);
  await store.close();

  const again = await open(dir, { now: c.now, maxEvents: 2 });
  assert.equal(summary(await again.list('Event')), ['R/one x2', 'R/four x1'], 'a lower bound trims at open');
  c.advance(1000);
  await again.recordEvent(podRef, 'Normal', 'R', 'five');
  assert.equal(summary(await again.list('Event')), ['R/four x1', 'R/five x1']);
  await again.close();
});

test('similar events of one object (only the message differs) are combined from the 10th distinct message, as client-go aggregates them', async () => {
  const c = clock();
  const { store } = await freshStore({ now: c.now });
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'prod', name: 'web-5d8f9', uid: 'rs-1' };
  for (let i = 1; i <= 12; i++) {
    await store.recordEvent(rs, 'Normal', 'SuccessfulCreate', `Created pod: web-5d8f9-${i}`);
    c.advance(1000);
  }
  // Another reason and another object are aggregated apart.
  await store.recordEvent(rs, 'Normal', 'SuccessfulDelete', 'Deleted pod: web-5d8f9-1');
  await store.recordEvent({ ...rs, name: 'api-1', uid: 'rs-2' }, 'Normal', 'SuccessfulCreate', 'Created pod: api-1-1');
  const evs = await store.list('Event');
  assert.equal(summary(evs.filter((e: any) => e.involvedObject.name === 'web-5d8f9' && e.reason === 'SuccessfulCreate')), [
    ...Array.from({ length: 9 }, (_, i) => `SuccessfulCreate/Created pod: web-5d8f9-${i + 1} x1`),
    'SuccessfulCreate/(combined from similar events): Created pod: web-5d8f9-12 x3',
  ]);
  assert.is(evs.length, 12);
  // Ten minutes without one: the next starts afresh.
  c.advance(601_000);
  await store.recordEvent(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-5d8f9-13');
  assert.ok((await store.list('Event')).some((e) => e.message === 'Created pod: web-5d8f9-13'));
  await store.close();
});

test('the aggregator is an LRU of 4,096 records, the least recently used 410 evicted at once when it is full: a forgotten object counts again from its first message', async () => {
  const { EventAggregator, AGGREGATE_MAX_EVENTS } = await import('../../src/store/event-aggregator.ts');
  const agg = new EventAggregator();
  const ref = (i: number) => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: `p-${i}`, uid: `u-${i}` });
  const shortOfThreshold = (i: number) => { for (let m = 1; m < AGGREGATE_MAX_EVENTS; m++) assert.is(agg.observe(ref(i), 'Normal', 'R', `m${m}`, 0), undefined); };
  const combined = (i: number) => agg.observe(ref(i), 'Normal', 'R', 'last', 0)?.message;
  // Records 0…4095 fill the cache; 0, 1, 410 and 411 are each one message short of being combined.
  for (let i = 0; i < 4096; i++) {
    if ([0, 1, 410, 411].includes(i)) shortOfThreshold(i);
    else agg.observe(ref(i), 'Normal', 'R', 'once', 0);
    if (i === 2000) agg.observe(ref(1), 'Normal', 'R', 'm1', 0); // used again: no longer among the oldest
  }
  agg.observe(ref(4096), 'Normal', 'R', 'once', 0); // the 4,097th: the oldest 410 (0, 2…410) go
  assert.is(combined(411), '(combined from similar events): last', 'the 411th oldest is kept');
  assert.is(combined(1), '(combined from similar events): last', 'used lately: kept');
  assert.is(combined(410), undefined, 'the 410th oldest: forgotten, its messages counted again');
  assert.is(combined(0), undefined);
});

test('an Event deleted directly is no longer folded into', async () => {
  const { store } = await freshStore();
  await store.recordEvent(podRef, 'Normal', 'Pulled', 'pulled');
  const [ev] = await store.list('Event');
  await store.delete('Event', 'prod', ev.metadata.name);
  await store.recordEvent(podRef, 'Normal', 'Pulled', 'pulled');
  const evs = await store.list('Event');
  assert.is(evs.length, 1);
  assert.is(evs[0].count, 1);
  assert.is.not(evs[0].metadata.name, ev.metadata.name);
  await store.close();
});

test.run();
