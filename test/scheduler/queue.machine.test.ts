// The per-pod queue machine and the queue around it, in simulated time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, SimulatedClock } from 'xstate';
import { backoffDelay, podQueueMachine } from '../../src/scheduler/queue.machine.ts';
import { SchedulingQueue } from '../../src/scheduler/scheduling-queue.ts';

function start(input = { backoffInitialMs: 1000, backoffMaxMs: 10_000, unschedulableTimeoutMs: 60_000 }) {
  const clock = new SimulatedClock();
  const actor = createActor(podQueueMachine, { input, clock }).start();
  const state = () => actor.getSnapshot().value;
  const fail = () => { actor.send({ type: 'POP' }); actor.send({ type: 'FAILED' }); };
  return { actor, clock, state, fail };
}

test('backoff: 1 s doubling to a 10 s cap', () => {
  const c = { backoffInitialMs: 1000, backoffMaxMs: 10_000 };
  assert.equal([1, 2, 3, 4, 5, 6].map((attempts) => backoffDelay({ ...c, attempts })), [1000, 2000, 4000, 8000, 10_000, 10_000]);
});

test('a failed pod backs off, then waits as unschedulable until the cluster changes', () => {
  const { actor, clock, state, fail } = start();
  assert.is(state(), 'active');
  fail();
  assert.is(state(), 'backoff');
  clock.increment(999);
  assert.is(state(), 'backoff');
  clock.increment(1);
  assert.is(state(), 'unschedulable', 'nothing changed: no point trying again');
  clock.increment(30_000);
  assert.is(state(), 'unschedulable');
  actor.send({ type: 'MOVE' });
  assert.is(state(), 'active');
  fail();
  clock.increment(1999);
  assert.is(state(), 'backoff', 'second backoff is 2 s');
  clock.increment(1);
  assert.is(state(), 'unschedulable');
});

test('a change during backoff is kept: the pod is retried when the backoff ends, not before', () => {
  const { actor, clock, state, fail } = start();
  fail();
  actor.send({ type: 'MOVE' });
  assert.is(state(), 'backoff');
  clock.increment(1000);
  assert.is(state(), 'active');
});

test('a change while the pod is being scheduled is kept for after its backoff', () => {
  const { actor, clock, state } = start();
  actor.send({ type: 'POP' });
  actor.send({ type: 'MOVE' });
  actor.send({ type: 'FAILED' });
  clock.increment(1000);
  assert.is(state(), 'active');
});

test('a write error retries after the backoff without waiting for a change', () => {
  const { actor, clock, state } = start();
  actor.send({ type: 'POP' });
  actor.send({ type: 'ERROR' });
  assert.is(state(), 'backoff');
  clock.increment(1000);
  assert.is(state(), 'active');
  assert.is(actor.getSnapshot().context.attempts, 1);
});

test('an unschedulable pod is retried after the timeout even when no change was seen', () => {
  const { clock, state, fail } = start();
  fail();
  clock.increment(1000);
  assert.is(state(), 'unschedulable');
  clock.increment(59_999);
  assert.is(state(), 'unschedulable');
  clock.increment(1);
  assert.is(state(), 'active');
});

test('bound is final', () => {
  const { actor } = start();
  actor.send({ type: 'POP' });
  actor.send({ type: 'BOUND' });
  assert.is(actor.getSnapshot().status, 'done');
});

test('the queue hands out active pods first in, first out, and wakes its owner', () => {
  const clock = new SimulatedClock();
  let wakes = 0;
  const q = new SchedulingQueue({ clock, backoffInitialMs: 100, onActive: () => wakes++ });
  q.add('default/a');
  q.add('default/b');
  q.add('default/a'); // already queued: keeps its place
  assert.is(wakes, 2);
  assert.is(q.pop(), 'default/a');
  q.done('default/a', 'FAILED');
  assert.is(q.pop(), 'default/b');
  assert.is(q.pop(), undefined);
  q.done('default/b', 'FAILED');
  clock.increment(100);
  assert.is(q.stateOf('default/a'), 'unschedulable');
  q.moveAll();
  assert.is(wakes, 4);
  assert.is(q.pop(), 'default/a');
  q.done('default/a', 'BOUND');
  assert.not.ok(q.has('default/a'), 'a bound pod leaves the queue');
  q.remove('default/b');
  assert.is(q.pop(), undefined);
  q.stop();
});

test('a pod gets its machine only when an attempt fails, with a change seen during the attempt kept', () => {
  const clock = new SimulatedClock();
  const q = new SchedulingQueue({ clock, backoffInitialMs: 100, unschedulableTimeoutMs: 60_000 });
  q.add('default/a');
  q.add('default/b');
  assert.is(q.stateOf('default/a'), 'active');
  q.moveAll(); // active pods stay active
  assert.is(q.pop(), 'default/a');
  assert.is(q.stateOf('default/a'), 'scheduling');
  q.move('default/a'); // the cluster changed during the attempt
  q.done('default/a', 'FAILED');
  assert.is(q.stateOf('default/a'), 'backoff');
  clock.increment(100);
  assert.is(q.stateOf('default/a'), 'active', 'the change seen while scheduling retries it once the backoff ends');
  assert.is(q.pop(), 'default/b');
  q.done('default/b', 'FAILED');
  clock.increment(100);
  assert.is(q.stateOf('default/b'), 'unschedulable', 'no change: it waits');
  assert.is(q.pop(), 'default/a');
  q.done('default/a', 'ERROR');
  clock.increment(199);
  assert.is(q.stateOf('default/a'), 'backoff', 'its second attempt failed: 200 ms');
  clock.increment(1);
  assert.is(q.stateOf('default/a'), 'active');
  // Removed and queued again while an attempt was under way: that attempt's outcome is not the new entry's.
  assert.is(q.pop(), 'default/a');
  q.remove('default/a');
  q.add('default/a');
  q.done('default/a', 'FAILED');
  q.done('default/a', 'BOUND');
  assert.is(q.stateOf('default/a'), 'active');
  q.stop();
});

test.run();
