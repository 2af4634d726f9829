// The hollow runtime (kubemark): the runtime contract for containers without processes, and a node running pods on
// it. The shared conformance suite (runtime-conformance.ts) is about real processes (logs, cwd, PATH lookups,
// process groups, signals, exec timeouts) and does not apply; what does apply (exit codes and reasons, stop
// twice and after the exit, exec results, start failures said without throwing) is checked here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HOLLOW_ENV, HollowRuntime } from '../../src/node/runtime/hollow/hollow.ts';
import type { ContainerLaunch } from '../../src/node/runtime/runtime.ts';
import { until } from '../support/wait.ts';
import { cleanup, fastNode, nodePod, openTestStore, statusOf, tempDir } from './helpers.ts';

test.after.each(cleanup);

const launch = (env: Record<string, string> = {}): ContainerLaunch => ({ id: 'default/pod/main', argv: ['sleep', '300'], env, cwd: '/nonexistent', logFile: '/nonexistent/0.log' });

test('a hollow container runs until stopped, then dies of SIGTERM (143); stop is safe twice and after the exit', async () => {
  const c = await new HollowRuntime().start(launch());
  assert.is(c.pid, 0, 'no process');
  let settled = false;
  void c.exited.then(() => { settled = true; });
  await new Promise((r) => setImmediate(r));
  assert.not.ok(settled, 'still running');
  const [a, b] = await Promise.all([c.stop(5000), c.stop(5000)]);
  assert.is(a, b);
  assert.equal([a.exitCode, a.signal, a.reason], [143, 'SIGTERM', 'Error']);
  assert.is(await c.stop(5000), a);
  assert.is(await c.exited, a);
});

test('told to exit: 0 is Completed, another code is Error with it, after the run time', async () => {
  const rt = new HollowRuntime();
  const ok = await (await rt.start(launch({ [HOLLOW_ENV.exitCode]: '0' }))).exited;
  assert.equal([ok.exitCode, ok.signal, ok.reason], [0, null, 'Completed']);
  const c = await rt.start(launch({ [HOLLOW_ENV.exitCode]: '3', [HOLLOW_ENV.runMs]: '30' }));
  const bad = await c.exited;
  assert.equal([bad.exitCode, bad.signal, bad.reason], [3, null, 'Error']);
  assert.ok(bad.finishedAt.getTime() - bad.startedAt.getTime() >= 25, 'ran for its run time');
  assert.is(await c.stop(0), bad, 'stop after the exit is the exit');
});

test('told it cannot run, or given a garbled figure: ContainerCannotRun with a message, never a throw', async () => {
  const rt = new HollowRuntime();
  const no = await (await rt.start(launch({ [HOLLOW_ENV.cannotRun]: 'exec: "app": executable file not found in $PATH' }))).exited;
  assert.equal([no.reason, no.message], ['ContainerCannotRun', 'exec: "app": executable file not found in $PATH']);
  const garbled = await (await rt.start(launch({ [HOLLOW_ENV.exitCode]: 'three' }))).exited;
  assert.is(garbled.reason, 'ContainerCannotRun');
  assert.is(garbled.message, `default/pod/main: ${HOLLOW_ENV.exitCode}="three" is not a whole number`);
});

test('exec succeeds unless told otherwise', async () => {
  const rt = new HollowRuntime();
  assert.equal(await rt.exec(launch(), ['true'], 1000), { exitCode: 0, output: '', timedOut: false });
  assert.equal(await rt.exec(launch({ [HOLLOW_ENV.execExitCode]: '1' }), ['true'], 1000), { exitCode: 1, output: '', timedOut: false });
});

test('the start delay holds a container back', async () => {
  const t0 = Date.now();
  await new HollowRuntime({ startDelayMs: 50 }).start(launch());
  assert.ok(Date.now() - t0 >= 45);
});

test('a node on the hollow runtime: pods go Running and Ready, fail as told, and are removed on deletion', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir, { runtime: new HollowRuntime({ startDelayMs: 10 }) });
  const readiness = { exec: { command: ['check'] }, periodSeconds: 1 };
  await store.create(nodePod('web', 'unused', { container: { readinessProbe: readiness } }));
  await store.create(nodePod('unready', 'unused', { container: { readinessProbe: readiness, env: [{ name: HOLLOW_ENV.execExitCode, value: '1' }] } }));
  await store.create(nodePod('crash', 'unused', { spec: { restartPolicy: 'Never' }, container: { env: [{ name: HOLLOW_ENV.exitCode, value: '2' }] } }));
  const get = (n: string) => store.get('Pod', 'default', n);
  const ready = (p: any) => p?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;
  const web = await until(async () => { const p = await get('web'); return ready(p) === 'True' && p; }, 'web Ready');
  assert.is(web!.status.phase, 'Running');
  assert.ok(statusOf(web)!.state.running, 'its container running');
  const crash = await until(async () => { const p = await get('crash'); return p?.status?.phase === 'Failed' && p; }, 'crash Failed');
  assert.is(statusOf(crash)!.state.terminated.exitCode, 2);
  const unready = await until(async () => { const p = await get('unready'); return p?.status?.phase === 'Running' && statusOf(p)?.state?.running && p; }, 'unready running');
  await until(async () => (await store.list('Event')).some((e: any) => e.involvedObject?.name === 'unready' && e.reason === 'Unhealthy'), 'its readiness probe failing');
  assert.is(ready(await get('unready')), 'False');
  assert.not.ok((await store.list('Event')).some((e: any) => e.involvedObject?.name === 'web' && e.reason === 'Unhealthy'), 'web\'s probe never failed');
  await store.delete('Pod', 'default', 'web');
  await until(async () => !(await get('web')), 'web removed by the node');
});

test.run();
