import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, SimulatedClock, waitFor } from 'xstate';
import { containerMachine, LaunchError, type ContainerHost, type ContainerInput } from '../../src/node/container.machine.ts';
import type { Terminated } from '../../src/node/pod-status.ts';

const T = '2024-05-01T10:00:00Z';
const term = (exitCode: number): Terminated => ({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: T, finishedAt: T });

/** A container whose instances the test ends by hand (`exit(code)`), in simulated time. */
function scripted(input: Partial<ContainerInput> = {}, launchFails: (n: number) => Error | undefined = () => undefined) {
  const launches: number[] = [];
  let current: ((t: Terminated) => void) | undefined;
  let attempts = 0;
  // Simulated time from T: an instance starts at the clock's time, and a back-off reset is measured from it.
  const clock = new SimulatedClock();
  clock.set(Date.parse(T));
  // The pod worker's part (ContainerHost), as the test scripts it: the machine's own actors call it.
  const host: ContainerHost = {
    launch: async (restartCount) => {
      const err = launchFails(attempts++);
      if (err) throw err;
      launches.push(restartCount);
      return { containerID: `process://${100 + launches.length}`, imageID: 'img', startedAt: new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z') };
    },
    wait: () => new Promise<Terminated>((resolve) => { current = resolve; }),
    kill: async () => {
      if (!current) return undefined;
      const t = term(143);
      current(t);
      current = undefined;
      return t;
    },
    startProbes: () => {},
    stopProbes: () => {},
  };
  const actor = createActor(containerMachine, { input: { host, name: 'web', podRef: 'web-abc_default(u1)', baseMs: 1000, maxMs: 4000, resetAfterMs: 60_000, nowMs: () => clock.now(), ...input }, clock });
  actor.start();
  const exit = (code: number) => { const c = current!; current = undefined; c(term(code)); };
  return { actor, clock, launches, exit };
}

type A = ReturnType<typeof scripted>['actor'];
/** Waits (up to 1 s of real time) for the actor to satisfy `p`. */
const wf = (a: A, p: (s: ReturnType<A['getSnapshot']>) => boolean) => waitFor(a, p, { timeout: 1000 });
const is = (a: A, state: Parameters<ReturnType<A['getSnapshot']>['matches']>[0]) => wf(a, (s) => s.matches(state));

test('crashes restart at once, then back off doubling to max, with CrashLoopBackOff and lastState', async () => {
  const { actor, clock, launches, exit } = scripted();
  await is(actor, { instance: 'running' });
  assert.equal(actor.getSnapshot().context.state, { running: { startedAt: T } });
  exit(1);
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 1);
  exit(1);
  await is(actor, 'backoff');
  let c = actor.getSnapshot().context;
  assert.equal(c.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1s restarting failed container=web pod=web-abc_default(u1)' } });
  assert.is(c.lastState.terminated?.exitCode, 1);
  assert.is(c.restartCount, 1);
  clock.increment(999);
  assert.ok(actor.getSnapshot().matches('backoff'), 'not before 1 s');
  clock.increment(1);
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 2);
  exit(2);
  await is(actor, 'backoff');
  assert.match((actor.getSnapshot().context.state as any).waiting.message, /^back-off 2s /);
  clock.increment(2000);
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 3);
  for (const expected of ['4s', '4s']) {
    exit(1);
    await is(actor, 'backoff');
    c = actor.getSnapshot().context;
    assert.match((c.state as any).waiting.message, new RegExp(`^back-off ${expected} `), 'capped at max');
    clock.increment(4000);
    await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === c.restartCount + 1);
  }
  assert.equal(launches, [0, 1, 2, 3, 4, 5]);
});

/** A container that crashed once (restarted at once, back-off step 1), whose next instance then ran `ms`. */
async function crashedThenRan(ms: number) {
  const c = scripted();
  await is(c.actor, { instance: 'running' });
  c.exit(1);
  await wf(c.actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 1);
  c.clock.increment(ms);
  return c;
}

test('an instance that ran resetAfterMs forgets the back-off', async () => {
  const { actor, exit } = await crashedThenRan(60_000);
  exit(1);
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 2);
  assert.is(actor.getSnapshot().context.backoffStep, 1, 'restarted at once, as after the first crash');
});

test('an instance that ran less than resetAfterMs keeps the back-off', async () => {
  const { actor, exit } = await crashedThenRan(59_000);
  exit(1);
  await is(actor, 'backoff');
  assert.is(actor.getSnapshot().context.backoffStep, 1, 'waits, as after a second crash in a row');
});

test('a liveness kill of an instance that ran resetAfterMs forgets the back-off too', async () => {
  const { actor } = await crashedThenRan(60_000);
  actor.send({ type: 'UNHEALTHY' });
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 2);
  assert.is(actor.getSnapshot().context.backoffStep, 1, 'restarted at once, not backed off');
});

test('a re-adopted instance starts out running, with its count, and is not launched', async () => {
  const { actor, launches, exit } = scripted({ adopted: { containerID: 'process://7', imageID: 'img', startedAt: T, restartCount: 2, ready: true } });
  await is(actor, { instance: 'running' });
  const c = actor.getSnapshot().context;
  assert.equal([c.restartCount, c.ready, c.started, c.containerID], [2, true, true, 'process://7']);
  assert.equal(launches, []);
  exit(1); // its exit still comes through the machine's wait
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 3);
  assert.equal(launches, [3]);
});

test("the machine's own wait: an exit of an instance no longer running (killed, replaced) is dropped", async () => {
  const waits: ((t: Terminated) => void)[] = [];
  const host: ContainerHost = {
    launch: async () => ({ containerID: `process://${waits.length}`, imageID: 'img', startedAt: T }),
    wait: () => new Promise<Terminated>((resolve) => { waits.push(resolve); }),
    kill: async () => term(137),
    startProbes: () => {},
    stopProbes: () => {},
  };
  const actor = createActor(containerMachine, { input: { name: 'web', podRef: 'web-abc_default(u1)', host, baseMs: 1000, maxMs: 4000 } });
  actor.start();
  await is(actor, { instance: 'running' });
  actor.send({ type: 'UNHEALTHY' }); // a liveness kill: the instance ends through `kill`, then restarts at once
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 1);
  assert.is(waits.length, 2);
  waits[0](term(1)); // the killed instance's own exit, late
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(actor.getSnapshot().matches({ instance: 'running' }), 'the running instance is not taken for ended');
  assert.is(actor.getSnapshot().context.restartCount, 1);
  waits[1](term(2));
  await wf(actor, (s) => s.context.lastState.terminated?.exitCode === 2);
  actor.stop();
});

/** A host whose launches and waits the test settles by hand; `calls` records what the machine asked for. */
function handHost() {
  const calls: string[] = [];
  const launches: { resolve: (l: { containerID: string; imageID: string; startedAt: string }) => void }[] = [];
  const waits: ((t: Terminated) => void)[] = [];
  const host: ContainerHost = {
    launch: (n) => { calls.push(`launch ${n}`); return new Promise((resolve) => launches.push({ resolve })); },
    wait: () => { calls.push('wait'); return new Promise<Terminated>((resolve) => waits.push(resolve)); },
    kill: async () => { calls.push('kill'); return undefined; },
    startProbes: () => {},
    stopProbes: () => {},
  };
  return { host, calls, launches, waits };
}

test('an instance: its launch, then its exit; an instance that ended at once is seen running, then exited', async () => {
  const h = handHost();
  // Started now (real time): an instance that ran since T would have run long enough to forget its crashes.
  h.host.launch = async (n) => { h.calls.push(`launch ${n}`); return { containerID: `process://${n}`, imageID: 'img', startedAt: new Date().toISOString() }; };
  h.host.wait = () => { h.calls.push('wait'); return Promise.resolve(term(1)); }; // exited before the machine heard of its launch
  const actor = createActor(containerMachine, { input: { name: 'web', podRef: 'web-abc_default(u1)', host: h.host, baseMs: 1000, maxMs: 4000 } });
  const seen: string[] = [];
  actor.subscribe((s) => seen.push(JSON.stringify(s.value)));
  actor.start();
  await wf(actor, (s) => s.matches('backoff'));
  assert.equal(h.calls, ['launch 0', 'wait', 'launch 1', 'wait'], 'the first restart is at once, the second backs off');
  assert.ok(seen.includes('{"instance":"running"}'), 'running, then exited');
  assert.is(actor.getSnapshot().context.restartCount, 1);
  actor.stop();
});

test('STOP while launching: the late launch changes nothing and is not waited on; an adopted instance is waited on, not launched', async () => {
  const h = handHost();
  const actor = createActor(containerMachine, { input: { name: 'web', podRef: 'web-abc_default(u1)', host: h.host } });
  actor.start();
  actor.send({ type: 'STOP', graceMs: 0 });
  await wf(actor, (s) => s.status === 'done');
  h.launches[0].resolve({ containerID: 'process://1', imageID: 'img', startedAt: T });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.calls, ['launch 0', 'kill']);
  assert.equal(actor.getSnapshot().context.state, { waiting: { reason: 'ContainerCreating' } });

  const a = handHost();
  const adopted = createActor(containerMachine, { input: { name: 'web', podRef: 'web-abc_default(u1)', host: a.host, adopted: { containerID: 'process://7', imageID: 'img', startedAt: T, restartCount: 4, ready: true } } });
  adopted.start();
  assert.ok(adopted.getSnapshot().matches({ instance: 'running' }));
  a.waits[0](term(2));
  await wf(adopted, () => a.launches.length === 1);
  a.launches[0].resolve({ containerID: 'process://8', imageID: 'img', startedAt: T });
  await wf(adopted, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 5);
  assert.equal(a.calls, ['wait', 'launch 5', 'wait']);
  assert.is(adopted.getSnapshot().context.lastState.terminated?.exitCode, 2);
  adopted.stop();
});

test('restart policies: Never stays terminated, OnFailure restarts failures only', async () => {
  const never = scripted({ restartPolicy: 'Never' });
  await is(never.actor, { instance: 'running' });
  never.exit(3);
  await is(never.actor, 'done');
  assert.equal(never.actor.getSnapshot().context.state, { terminated: term(3) });
  assert.equal(never.actor.getSnapshot().context.lastState, {});

  const onFailure = scripted({ restartPolicy: 'OnFailure' });
  await is(onFailure.actor, { instance: 'running' });
  onFailure.exit(1);
  await wf(onFailure.actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 1);
  onFailure.exit(0);
  await is(onFailure.actor, 'done');
  assert.is(onFailure.actor.getSnapshot().context.restartCount, 1);
});

test('a config error waits and retries without counting a restart', async () => {
  const { actor, clock, launches } = scripted({}, (n) => (n < 2 ? new LaunchError('CreateContainerConfigError', 'configmap "greeting" not found') : undefined));
  await is(actor, 'configError');
  assert.equal(actor.getSnapshot().context.state, { waiting: { reason: 'CreateContainerConfigError', message: 'configmap "greeting" not found' } });
  clock.increment(1000);
  await wf(actor, (s) => s.matches('configError'));
  clock.increment(1000);
  await is(actor, { instance: 'running' });
  assert.is(actor.getSnapshot().context.restartCount, 0);
  assert.equal(launches, [0]);
});

test('image pull failures show ErrImagePull, then back off as ImagePullBackOff', async () => {
  const { actor, clock } = scripted({}, (n) => (n < 1 ? new LaunchError('ErrImagePull', 'Failed to pull image "git:x@1": boom') : undefined));
  await is(actor, 'pullBackoff');
  assert.equal(actor.getSnapshot().context.state, { waiting: { reason: 'ErrImagePull', message: 'Failed to pull image "git:x@1": boom' } });
  clock.increment(500);
  assert.equal(actor.getSnapshot().context.state, { waiting: { reason: 'ImagePullBackOff', message: 'Failed to pull image "git:x@1": boom' } });
  clock.increment(500);
  await is(actor, { instance: 'running' });
});

test('readiness: unready until READY when it has a probe; STOP ends it with the exit and no restart', async () => {
  const { actor, launches } = scripted({ hasReadiness: true });
  await is(actor, { instance: 'running' });
  assert.is(actor.getSnapshot().context.ready, false);
  actor.send({ type: 'READY', ready: true });
  assert.is(actor.getSnapshot().context.ready, true);
  actor.send({ type: 'STOP', graceMs: 10 });
  await wf(actor, (s) => s.status === 'done');
  const c = actor.getSnapshot().context;
  assert.equal([c.ready, c.state], [false, { terminated: term(143) }]);
  assert.equal(launches, [0]);
});

test('a failed liveness probe kills the instance and the policy restarts it', async () => {
  const { actor } = scripted();
  await is(actor, { instance: 'running' });
  actor.send({ type: 'UNHEALTHY', message: 'HTTP probe failed with statuscode: 500' });
  await wf(actor, (s) => s.matches({ instance: 'running' }) && s.context.restartCount === 1);
  assert.is(actor.getSnapshot().context.lastState.terminated?.exitCode, 143);
});

test('resumed after a node restart: count carries on, a lost running instance is ContainerStatusUnknown, finished stays finished', async () => {
  const lost = scripted({ resume: { state: { running: { startedAt: T } }, lastState: {}, restartCount: 2 }, now: '2024-05-01T11:00:00Z' });
  await is(lost.actor, { instance: 'running' });
  const c = lost.actor.getSnapshot().context;
  assert.is(c.restartCount, 3);
  assert.equal(c.lastState.terminated, { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: T, finishedAt: '2024-05-01T11:00:00Z' });
  assert.equal(lost.launches, [3]);

  const finished = scripted({ restartPolicy: 'Never', resume: { state: { terminated: term(0) }, restartCount: 0 } });
  await is(finished.actor, 'done');
  assert.equal(finished.launches, []);

  // A `Never` container lost with the node is not run again, as after a node reboot: it ends as it was found.
  const never = scripted({ restartPolicy: 'Never', resume: { state: { running: { startedAt: T } }, restartCount: 0 }, now: '2024-05-01T11:00:00Z' });
  await is(never.actor, 'done');
  assert.equal(never.launches, []);
  assert.is((never.actor.getSnapshot().context.state as { terminated?: { reason: string } }).terminated?.reason, 'ContainerStatusUnknown');
});

test.run();
