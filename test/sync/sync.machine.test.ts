import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromPromise, SimulatedClock, waitFor } from 'xstate';
import { syncMachine, type StepResult } from '../../src/sync/sync.machine.ts';

/** A machine whose steps are scripted: heads to return, validation errors, apply failures. */
function scripted(opts: { heads: string[]; errorsFor?: string[]; applyFails?: number; lastApplied?: string }) {
  const calls: string[] = [];
  let applyFailures = opts.applyFails ?? 0;
  let i = 0;
  const machine = syncMachine.provide({
    actors: {
      fetch: fromPromise(async () => { calls.push('fetch'); return opts.heads[Math.min(i++, opts.heads.length - 1)]; }),
      load: fromPromise(async ({ input }: { input: { head: string } }) => { calls.push(`load ${input.head}`); }),
      validate: fromPromise(async ({ input }: { input: { head: string } }): Promise<StepResult> => ({
        errors: opts.errorsFor?.includes(input.head) ? [{ severity: 'error', file: 'a.yaml', line: 1, column: 1, message: 'bad' }] : [],
      })),
      plan: fromPromise(async () => { calls.push('plan'); }),
      apply: fromPromise(async ({ input }: { input: { head: string } }) => {
        if (applyFailures-- > 0) throw new Error('disk full');
        calls.push(`apply ${input.head}`);
      }),
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(machine, { input: { lastApplied: opts.lastApplied, retryBaseMs: 1000, retryMaxMs: 4000 }, clock });
  const seen: string[] = [];
  actor.subscribe((s) => { if (seen.at(-1) !== s.value) seen.push(s.value as string); });
  actor.start();
  return { actor, clock, calls, seen };
}

test('a new head goes through every step to synced', async () => {
  const { actor, calls, seen } = scripted({ heads: ['a'] });
  actor.send({ type: 'CHANGE' });
  await waitFor(actor, (s) => s.matches('synced'));
  assert.equal(seen, ['idle', 'fetching', 'loading', 'validating', 'planning', 'applying', 'synced']);
  assert.equal(calls, ['fetch', 'load a', 'plan', 'apply a']);
  assert.is(actor.getSnapshot().context.lastApplied, 'a');
});

test('the head already applied is not applied again', async () => {
  const { actor, calls } = scripted({ heads: ['a'], lastApplied: 'a' });
  actor.send({ type: 'CHANGE' });
  await waitFor(actor, (s) => s.matches('synced'));
  assert.equal(calls, ['fetch']);
});

test('validation errors fail the revision, keep the last applied one, and a fix applies', async () => {
  const { actor, calls } = scripted({ heads: ['bad', 'good'], errorsFor: ['bad'], lastApplied: 'old' });
  actor.send({ type: 'CHANGE' });
  await waitFor(actor, (s) => s.matches('failed'));
  const ctx = actor.getSnapshot().context;
  assert.is(ctx.lastApplied, 'old');
  assert.is(ctx.errors.length, 1);
  assert.not.ok(calls.includes('plan'), 'nothing planned or applied');
  actor.send({ type: 'CHANGE' });
  await waitFor(actor, (s) => s.matches('synced'));
  assert.is(actor.getSnapshot().context.lastApplied, 'good');
  assert.equal(actor.getSnapshot().context.errors, []);
});

test('failures retry with doubling backoff in simulated time', async () => {
  const { actor, clock, calls } = scripted({ heads: ['a'], applyFails: 3 });
  actor.send({ type: 'CHANGE' });
  await waitFor(actor, (s) => s.matches('failed'));
  assert.is(actor.getSnapshot().context.attempt, 1);
  clock.increment(999);
  assert.ok(actor.getSnapshot().matches('failed'), 'not before 1 s');
  clock.increment(1);
  await waitFor(actor, (s) => s.matches('failed') && s.context.attempt === 2);
  clock.increment(1999);
  assert.ok(actor.getSnapshot().matches('failed'), 'second wait is 2 s');
  clock.increment(1);
  await waitFor(actor, (s) => s.matches('failed') && s.context.attempt === 3);
  clock.increment(4000);
  await waitFor(actor, (s) => s.matches('synced'));
  assert.equal(calls.filter((c) => c.startsWith('apply')), ['apply a']);
  assert.is(actor.getSnapshot().context.attempt, 0);
});

test('a change during a sync runs again afterwards; suspend waits for the step to end', async () => {
  const { actor, calls } = scripted({ heads: ['a', 'b'] });
  actor.send({ type: 'CHANGE' });
  actor.send({ type: 'CHANGE' });
  actor.send({ type: 'SUSPEND' });
  await waitFor(actor, (s) => s.matches('suspended'));
  assert.equal(calls, ['fetch', 'load a', 'plan', 'apply a']);
  actor.send({ type: 'RESUME' });
  await waitFor(actor, (s) => s.matches('synced') && s.context.lastApplied === 'b');
});

test('a change during a sync: the first revision\'s outcome is seen (synced) before the next run starts', async () => {
  const { actor, clock, calls, seen } = scripted({ heads: ['a', 'b'] });
  actor.send({ type: 'CHANGE' });
  actor.send({ type: 'CHANGE' }); // mid-sync: pending
  await waitFor(actor, (s) => s.matches('synced'));
  assert.is(actor.getSnapshot().context.lastApplied, 'a');
  assert.is(actor.getSnapshot().context.pending, true);
  clock.increment(0); // the next run starts only once the outcome has been seen
  await waitFor(actor, (s) => s.matches('synced') && s.context.lastApplied === 'b');
  assert.equal(calls, ['fetch', 'load a', 'plan', 'apply a', 'fetch', 'load b', 'plan', 'apply b']);
  assert.equal(seen, ['idle', 'fetching', 'loading', 'validating', 'planning', 'applying', 'synced', 'fetching', 'loading', 'validating', 'planning', 'applying', 'synced']);
});

test('a change during a failing sync: the failure is seen before the next run starts', async () => {
  const { actor, clock, seen } = scripted({ heads: ['a', 'b'], errorsFor: ['a'] });
  actor.send({ type: 'CHANGE' });
  actor.send({ type: 'CHANGE' });
  await waitFor(actor, (s) => s.matches('failed'));
  assert.match(actor.getSnapshot().context.error!, /1 error/);
  clock.increment(0); // not the retry back-off (1 s): the change runs at once
  await waitFor(actor, (s) => s.matches('synced') && s.context.lastApplied === 'b');
  assert.equal(seen.slice(seen.indexOf('failed')), ['failed', 'fetching', 'loading', 'validating', 'planning', 'applying', 'synced']);
});

test.run();
