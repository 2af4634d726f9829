import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, SimulatedClock, waitFor } from 'xstate';
import { podWorkerMachine, type PodWorkerHost, type Prepared } from '../../src/node/pod-worker.machine.ts';

/** A pod worker's host whose prepare the test settles by hand; `calls` is what the machine asked for, in order. */
function handHost() {
  const calls: string[] = [];
  const prepares: { resolve: (p: Prepared) => void; reject: (e: Error) => void }[] = [];
  const host: PodWorkerHost = {
    prepare: () => { calls.push('prepare'); return new Promise<Prepared>((resolve, reject) => prepares.push({ resolve, reject })); },
    startContainers: async () => { calls.push('startContainers'); },
    terminate: async () => { calls.push('terminate'); },
    stopForNode: async () => { calls.push('stopForNode'); },
    allDone: () => false,
  };
  return { host, calls, prepares };
}
const wf = (a: { getSnapshot(): any }, p: (s: any) => boolean) => waitFor(a as any, p, { timeout: 1000 });
const PREPARED: Prepared = { podIP: '10.0.0.7', startTime: '2024-05-01T10:00:00Z' };

test('a pod prepares, then starts its containers, then runs; its address and start time come from the prepare', async () => {
  const h = handHost();
  const actor = createActor(podWorkerMachine, { input: { host: h.host } }).start();
  assert.ok(actor.getSnapshot().matches({ launch: 'preparing' }));
  h.prepares[0].resolve(PREPARED);
  await wf(actor, (s) => s.matches('running'));
  assert.equal(h.calls, ['prepare', 'startContainers']);
  assert.equal([actor.getSnapshot().context.podIP, actor.getSnapshot().context.startTime], [PREPARED.podIP, PREPARED.startTime]);
  actor.stop();
});

test('a failed prepare waits and prepares again; a deletion while preparing starts no container', async () => {
  const clock = new SimulatedClock();
  const h = handHost();
  const actor = createActor(podWorkerMachine, { input: { host: h.host, retryMs: 5000 }, clock }).start();
  h.prepares[0].reject(new Error('no free address'));
  await wf(actor, (s) => s.matches('prepareFailed'));
  assert.is(actor.getSnapshot().context.error, 'no free address');
  clock.increment(5000);
  await wf(actor, (s) => s.matches({ launch: 'preparing' }));
  assert.equal(h.calls, ['prepare', 'prepare']);
  actor.send({ type: 'DELETE', graceMs: 0 });
  h.prepares[1].resolve(PREPARED); // the prepare under way ends after the deletion
  await wf(actor, (s) => s.status === 'done');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.calls, ['prepare', 'prepare', 'terminate'], 'no container started for a pod being deleted');
  assert.is(actor.getSnapshot().context.podIP, undefined);
});

test('an eviction while the containers start: the pod terminates at once (grace 0, the object kept), and the late start changes nothing', async () => {
  const h = handHost();
  let started!: () => void;
  h.host.startContainers = () => { h.calls.push('startContainers'); return new Promise<void>((r) => (started = r)); };
  h.host.terminate = (graceMs, remove) => { h.calls.push(`terminate ${graceMs} ${remove}`); return new Promise<void>(() => {}); };
  const actor = createActor(podWorkerMachine, { input: { host: h.host } }).start();
  h.prepares[0].resolve(PREPARED);
  await wf(actor, (s) => s.matches({ launch: 'starting' }));
  actor.send({ type: 'EVICT' });
  assert.ok(actor.getSnapshot().matches('terminating'));
  started();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(actor.getSnapshot().matches('terminating'), 'not taken for running');
  assert.equal(h.calls, ['prepare', 'startContainers', 'terminate 0 false']);
  actor.stop();
});

test('a prepare that throws at once fails like one that fails later', async () => {
  const h = handHost();
  h.host.prepare = () => { throw new Error('thrown at once'); };
  const actor = createActor(podWorkerMachine, { input: { host: h.host } }).start();
  await wf(actor, (s) => s.matches('prepareFailed'));
  assert.is(actor.getSnapshot().context.error, 'thrown at once');
  actor.stop();
});

test.run();
