import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assign, createActor, setup, waitFor } from 'xstate';
import { fromTask } from '../../src/node/task-logic.ts';

/** A machine that runs `step` and records how it ended; LEAVE moves on before it does. */
function machineOf(step: ReturnType<typeof fromTask<number, { n: number }>>) {
  return setup({
    types: {} as { context: { out?: number; error?: string }; events: { type: 'LEAVE' } },
    actors: { step },
  }).createMachine({
    context: {},
    initial: 'working',
    states: {
      working: {
        invoke: {
          src: 'step',
          input: { n: 20 },
          onDone: { target: 'done', actions: assign({ out: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign({ error: ({ event }) => (event.error as Error).message }) },
        },
        on: { LEAVE: 'left' },
      },
      done: {},
      failed: {},
      left: {},
    },
  });
}

test('a task\'s result reaches onDone, its rejection or throw onError, with the input it was given', async () => {
  const ok = createActor(machineOf(fromTask(async ({ n }) => n + 1))).start();
  assert.is((await waitFor(ok, (s) => s.matches('done'))).context.out, 21);
  const rejects = createActor(machineOf(fromTask<number, { n: number }>(async () => { throw new Error('no address left'); }))).start();
  assert.is((await waitFor(rejects, (s) => s.matches('failed'))).context.error, 'no address left');
  const throws = createActor(machineOf(fromTask<number, { n: number }>(() => { throw new Error('thrown at once'); }))).start();
  assert.is((await waitFor(throws, (s) => s.matches('failed'))).context.error, 'thrown at once');
  const sync = createActor(machineOf(fromTask(({ n }) => n * 2))).start();
  assert.is((await waitFor(sync, (s) => s.matches('done'))).context.out, 40, 'a plain value is a result too');
});

test('a task stopped before it ends (its state left) changes nothing when it ends', async () => {
  let finish!: (n: number) => void;
  const started: number[] = [];
  const actor = createActor(machineOf(fromTask(({ n }) => { started.push(n); return new Promise<number>((r) => (finish = r)); }))).start();
  actor.send({ type: 'LEAVE' });
  finish(5);
  await new Promise((r) => setImmediate(r));
  const s = actor.getSnapshot();
  assert.ok(s.matches('left'));
  assert.is(s.context.out, undefined);
  assert.equal(started, [20], 'run once');
  assert.equal(Object.keys(s.children), [], 'the stopped task is gone');
});

test('no AbortController is made for a task (fromPromise makes one per run: 3 a pod at 30,000 pods)', async () => {
  const Real = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Real { constructor() { super(); made++; } };
  try {
    const actor = createActor(machineOf(fromTask(async ({ n }) => n))).start();
    await waitFor(actor, (s) => s.matches('done'));
  } finally {
    globalThis.AbortController = Real;
  }
  assert.is(made, 0);
});

test.run();
