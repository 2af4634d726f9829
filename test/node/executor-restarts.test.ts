// The node executor with real processes: restart policies, back-off, failures to start, readiness, config errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../support/wait.ts';
import { alive, cleanup, fastNode, nodePod, openTestStore, pidOf, statusOf, tempDir } from './helpers.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';

test.after.each(cleanup);

const podWhere = (store: LowdbStore, name: string, ok: (p: any) => boolean, what: string, ms = 5000) =>
  until(async () => { const p = await store.get('Pod', 'default', name); return p && ok(p) && p; }, what, ms);
const condition = (p: any, type: string) => p.status.conditions.find((c: any) => c.type === type);

async function setup() {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  return { dir, store };
}

test('a crashing container restarts with back-off: CrashLoopBackOff, lastState.terminated, restartCount', async () => {
  const { store } = await setup();
  await store.create(nodePod('crash', 'process.exit(3)'));
  const pod = await podWhere(store, 'crash', (p) => statusOf(p)?.state.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
  const s = statusOf(pod);
  assert.match(s.state.waiting.message, new RegExp(`^back-off \\d+ms restarting failed container=main pod=crash_default\\(${pod.metadata.uid}\\)$`));
  assert.is(s.lastState.terminated.exitCode, 3);
  assert.is(s.lastState.terminated.reason, 'Error');
  assert.ok(s.restartCount >= 1);
  assert.is(pod.status.phase, 'Running', 'Always: on its way back');
  await podWhere(store, 'crash', (p) => statusOf(p).restartCount >= 3, 'more restarts');
  const events = await store.list('Event', { namespace: 'default' });
  assert.ok(events.some((e: any) => e.reason === 'BackOff' && e.type === 'Warning'), 'a BackOff event');
});

test('restartPolicy Never: a failure makes the pod Failed, success Succeeded; nothing restarts', async () => {
  const { store } = await setup();
  await store.create(nodePod('fails', 'process.exit(2)', { spec: { restartPolicy: 'Never' } }));
  await store.create(nodePod('works', "console.log('done')", { spec: { restartPolicy: 'Never' } }));
  const failed = await podWhere(store, 'fails', (p) => p.status.phase === 'Failed', 'Failed');
  assert.equal([statusOf(failed).state.terminated.exitCode, statusOf(failed).state.terminated.reason, statusOf(failed).restartCount], [2, 'Error', 0]);
  assert.equal([condition(failed, 'Ready').status, condition(failed, 'Ready').reason], ['False', 'PodCompleted']);
  const ok = await podWhere(store, 'works', (p) => p.status.phase === 'Succeeded', 'Succeeded');
  assert.is(statusOf(ok).state.terminated.reason, 'Completed');
  // A finished pod is removed at once when deleted (nothing runs it).
  await store.delete('Pod', 'default', 'works');
  assert.is(await store.get('Pod', 'default', 'works'), undefined);
});

test('a command that cannot run is ContainerCannotRun; a container without command waits with a clear reason', async () => {
  const { store } = await setup();
  await store.create(nodePod('nocmd', '', { spec: { restartPolicy: 'Never' }, container: { command: ['/nonexistent/program'] } }));
  const bad = await podWhere(store, 'nocmd', (p) => p.status.phase === 'Failed', 'Failed');
  const t = statusOf(bad).state.terminated;
  assert.is(t.reason, 'ContainerCannotRun');
  assert.match(t.message, /no such file or directory/);
  await store.create(nodePod('bare', '', { container: { command: undefined, args: ['x'] } }));
  const bare = await podWhere(store, 'bare', (p) => statusOf(p)?.state.waiting?.reason === 'CreateContainerConfigError', 'config error');
  assert.match(statusOf(bare).state.waiting.message, /container "main" has no command/);
  assert.is(bare.status.phase, 'Pending');
});

test('a missing ConfigMap holds the container in CreateContainerConfigError until it exists', async () => {
  const { store } = await setup();
  await store.create(nodePod('cfg', 'setInterval(() => {}, 1000)', { container: { env: [{ name: 'G', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'message' } } }] } }));
  const waiting = await podWhere(store, 'cfg', (p) => statusOf(p)?.state.waiting?.reason === 'CreateContainerConfigError', 'config error');
  assert.is(statusOf(waiting).state.waiting.message, 'configmap "greeting" not found');
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: 'default' }, data: { message: 'hi' } });
  const running = await podWhere(store, 'cfg', (p) => p.status.phase === 'Running', 'running once the ConfigMap exists');
  assert.is(statusOf(running).restartCount, 0);
});

test('a readiness probe drives Ready; the probe reaches the app on its pod IP', async () => {
  const { dir, store } = await setup();
  const flag = join(dir, 'ready-flag');
  const port = 20_000 + (process.pid % 20_000); // another test run at the same time uses the same pod addresses
  const app = `require('http').createServer((q, s) => { s.statusCode = require('fs').existsSync(${JSON.stringify(flag)}) ? 200 : 503; s.end(); }).listen(${port}, process.env.POD_IP);`;
  await store.create(nodePod('probed', app, {
    container: { ports: [{ name: 'http', containerPort: port }], readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 } },
  }));
  const unready = await podWhere(store, 'probed', (p) => p.status.phase === 'Running', 'running');
  assert.is(statusOf(unready).ready, false, 'unready until the probe passes');
  assert.is(condition(unready, 'Ready').status, 'False');
  writeFileSync(flag, '');
  await podWhere(store, 'probed', (p) => condition(p, 'Ready').status === 'True' && statusOf(p).ready, 'Ready');
  rmSync(flag);
  const again = await podWhere(store, 'probed', (p) => condition(p, 'Ready').status === 'False', 'unready again');
  assert.equal([condition(again, 'Ready').reason, condition(again, 'Ready').message], ['ContainersNotReady', 'containers with unready status: [main]']);
  assert.is(statusOf(again).restartCount, 0, 'readiness never restarts');
});

test('a failed liveness probe restarts the container, again and again', async () => {
  const { store } = await setup();
  // Nothing ever listens on the probed port: every probe fails, and each failure kills the current instance.
  await store.create(nodePod('unhealthy', 'setInterval(() => {}, 1000)', {
    container: { livenessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1, failureThreshold: 1 } },
  }));
  const pod = await podWhere(store, 'unhealthy', (p) => statusOf(p)?.restartCount >= 2 && statusOf(p).state.running, 'two liveness restarts, running again');
  assert.is(statusOf(pod).lastState.terminated.exitCode, 143, 'stopped with SIGTERM');
  const events = await store.list('Event', { namespace: 'default' });
  assert.ok(events.some((e: any) => e.reason === 'Killing' && /failed liveness probe/.test(e.message)));
});

test('a startup probe holds liveness back until it passes, and restarts a container that never starts up', async () => {
  const { store } = await setup();
  // Liveness alone would kill this one (nothing listens on port 1); the startup probe passes at once (exec true),
  // so liveness takes over afterwards and does restart it.
  await store.create(nodePod('slow', 'setInterval(() => {}, 1000)', {
    container: { startupProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 1 }, livenessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1, failureThreshold: 1 } },
  }));
  await store.create(nodePod('never', 'setInterval(() => {}, 1000)', {
    container: { startupProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 } },
  }));
  await podWhere(store, 'never', (p) => statusOf(p)?.restartCount >= 1, 'a restart for a failed startup probe');
  await podWhere(store, 'slow', (p) => statusOf(p)?.restartCount >= 1, 'liveness restarts once started up');
  const events = await store.list('Event', { namespace: 'default' });
  assert.ok(events.some((e: any) => e.involvedObject.name === 'never' && /failed startup probe/.test(e.message)));
  assert.not.ok(events.some((e: any) => e.involvedObject.name === 'never' && /liveness/.test(e.message)));
});

test('containers of one pod restart independently', async () => {
  const { store } = await setup();
  const pod = nodePod('multi', 'setInterval(() => {}, 1000)');
  pod.spec.containers.push({ name: 'flaky', image: 'host', command: [process.execPath, '-e', 'setTimeout(() => process.exit(1), 50)'] });
  await store.create(pod);
  const first = await podWhere(store, 'multi', (p) => statusOf(p)?.state.running && statusOf(p, 'flaky')?.restartCount >= 1, 'flaky restarted');
  const steady = statusOf(first).containerID;
  const later = await podWhere(store, 'multi', (p) => statusOf(p, 'flaky').restartCount >= 3, 'flaky restarted again');
  assert.is(statusOf(later).containerID, steady, 'main kept its process');
  assert.is(statusOf(later).restartCount, 0);
  assert.ok(alive(pidOf(steady)));
  assert.is(later.status.phase, 'Running');
});

test.run();
