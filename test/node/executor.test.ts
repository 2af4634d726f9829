// The node executor with real processes: running, env, images, graceful deletion.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inCidr } from '../../src/model/ip-pool.ts';
import { containerLogFile } from '../../src/node/logs.ts';
import { until } from '../support/wait.ts';
import { alive, cleanup, fastNode, nodePod, openTestStore, pidOf, statusOf, tempDir } from './helpers.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';

test.after.each(cleanup);

const OID = 'a'.repeat(40);
const getPod = (store: LowdbStore, name: string) => store.get('Pod', 'default', name);
const podWhere = (store: LowdbStore, name: string, ok: (p: any) => boolean, what: string, ms = 5000) =>
  until(async () => { const p = await getPod(store, name); return p && ok(p) && p; }, what, ms);

test('a pod runs as a process: Running, Ready, an address in the node CIDR, and its env', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: 'default' }, data: { message: 'hello' } });
  await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('s3cr3t').toString('base64') } });
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'default' }, spec: { clusterIP: '127.2.0.9', ports: [{ name: 'http', port: 9000 }] } });
  const node = await fastNode(store, dir);
  const keys = ['POD_IP', 'GREETING', 'PASSWORD', 'MY_NAME', 'MY_IP', 'NODE', 'BACKEND_SERVICE_HOST', 'BACKEND_SERVICE_PORT_HTTP', 'BACKEND_PORT_9000_TCP', 'CONVERGIT_POD_UID', 'ARG'];
  const script = `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(keys)}.map((k) => [k, k === 'ARG' ? process.argv[1] : process.env[k]])))); setInterval(() => {}, 1000);`;
  await store.create(nodePod('web', script, {
    container: {
      args: ['$(GREETING)-$(MY_NAME)'],
      // Ready only when an exec in the container sees its env, its own variables and its Services' (the node keeps
      // the two apart and joins them when read).
      readinessProbe: { exec: { command: ['sh', '-c', 'test "$BACKEND_SERVICE_HOST" = 127.2.0.9 && test "$GREETING" = hello'] }, periodSeconds: 1 },
      env: [
        { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'message' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      ],
    },
  }));
  const pod = await podWhere(store, 'web', (p) => p.status.phase === 'Running' && p.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'), 'web Running and Ready');
  const s = statusOf(pod);
  assert.ok(inCidr(pod.status.podIP, node.podCIDR), `${pod.status.podIP} in ${node.podCIDR}`);
  assert.equal([s.ready, s.started, s.restartCount, s.image, pod.status.hostIP], [true, true, 0, 'host', '127.0.0.1']);
  assert.ok(alive(pidOf(s.containerID)), 'containerID names the live process');
  assert.equal(pod.status.conditions.find((c: any) => c.type === 'PodScheduled').lastTransitionTime, '2024-01-01T00:00:00Z', "the scheduler's condition is kept");
  const log = containerLogFile(dir, { namespace: 'default', name: 'web', uid: pod.metadata.uid }, 'main', 0);
  const env = await until(() => existsSync(log) && readFileSync(log, 'utf8').trim() && JSON.parse(readFileSync(log, 'utf8')), 'the env printed to the log');
  assert.equal(env, {
    POD_IP: pod.status.podIP, GREETING: 'hello', PASSWORD: 's3cr3t', MY_NAME: 'web', MY_IP: pod.status.podIP, NODE: 'node-a',
    BACKEND_SERVICE_HOST: '127.2.0.9', BACKEND_SERVICE_PORT_HTTP: '9000', BACKEND_PORT_9000_TCP: 'tcp://127.2.0.9:9000',
    CONVERGIT_POD_UID: pod.metadata.uid, ARG: 'hello-web',
  });
  const recorded = await until(() => {
    const f = join(dir, 'nodes', 'node-a', 'pids.json');
    return existsSync(f) && (JSON.parse(readFileSync(f, 'utf8')) as any[]).find((e) => e.podUID === pod.metadata.uid);
  }, 'the container in pids.json');
  assert.equal([recorded.launch.env.GREETING, recorded.launch.env.BACKEND_SERVICE_HOST, recorded.launch.env.POD_IP], ['hello', '127.2.0.9', pod.status.podIP], 'its whole env recorded');
});

test('a git: image runs from its extracted folder (workingDir inside it); imageID names it', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const image = `git:apps/hello@${OID}`;
  const script = "console.log(JSON.stringify({ cwd: process.cwd(), file: require('fs').readFileSync('hello.txt', 'utf8') })); setInterval(() => {}, 1000);";
  await store.create(nodePod('img', script, { container: { image, workingDir: 'lib' } }));
  const pod = await podWhere(store, 'img', (p) => p.status.phase === 'Running', 'img Running');
  assert.is(statusOf(pod).imageID, image);
  const log = containerLogFile(dir, { namespace: 'default', name: 'img', uid: pod.metadata.uid }, 'main', 0);
  const out = await until(() => existsSync(log) && readFileSync(log, 'utf8').trim() && JSON.parse(readFileSync(log, 'utf8')), 'output');
  assert.equal(out, { cwd: join(dir, 'images', OID, 'lib'), file: 'hello from the image\n' });
});

test('graceful deletion: SIGTERM honoured, SIGKILL after the grace period, processes gone, object removed, address reused last', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const marker = join(dir, 'sigterm-seen');
  const armed = (name: string) => join(dir, `armed-${name}`);
  // Each writes a file once its handler is in place: a SIGTERM before that would find node's default action.
  const polite = `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'bye'); process.exit(0); }); require('fs').writeFileSync(${JSON.stringify(armed('polite'))}, ''); setInterval(() => {}, 1000);`;
  const stubborn = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(armed('stubborn'))}, ''); setInterval(() => {}, 1000);`;
  const pod = nodePod('two', polite, { spec: { terminationGracePeriodSeconds: 3 } });
  pod.spec.containers.push({ name: 'stubborn', image: 'host', command: [process.execPath, '-e', stubborn] });
  await store.create(pod);
  const running = await podWhere(store, 'two', (p) => p.status.phase === 'Running' && p.status.containerStatuses.every((c: any) => c.ready), 'both containers running');
  const pids = running.status.containerStatuses.map((c: any) => pidOf(c.containerID));
  await until(() => existsSync(armed('polite')) && existsSync(armed('stubborn')), 'both SIGTERM handlers in place');
  await store.delete('Pod', 'default', 'two');
  const marked = await getPod(store, 'two');
  assert.ok(marked?.metadata.deletionTimestamp, 'first only marked');
  await until(async () => !(await getPod(store, 'two')), 'the node removes the pod', 5000);
  assert.is(readFileSync(marker, 'utf8'), 'bye', 'the SIGTERM handler ran');
  for (const pid of pids) assert.not.ok(alive(pid), `process ${pid} is gone`);
  // The next pod does not get the address just released (it goes to the back of the line).
  await store.create(nodePod('next', 'setInterval(() => {}, 1000)'));
  const next = await podWhere(store, 'next', (p) => !!p.status?.podIP, 'next has an address');
  assert.is.not(next.status.podIP, running.status.podIP);
});

test('two nodes of one process, pods bound to both at once: every one runs on its node, and every one is removed', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  await fastNode(store, dir, { nodeName: 'node-b' });
  const names = Array.from({ length: 12 }, (_, i) => `many-${i}`);
  // Created together: the nodes take turns through their queues, a slice of each turn of the event loop.
  await Promise.all(names.map((n, i) => {
    const p = nodePod(n, '', { node: i % 2 ? 'node-b' : 'node-a' });
    p.spec.containers[0].command = ['sleep', '600'];
    return store.create(p);
  }));
  const running = await until(async () => {
    const pods = await Promise.all(names.map((n) => getPod(store, n)));
    return pods.every((p) => statusOf(p)?.ready) && pods;
  }, 'all twelve Ready', 20_000);
  assert.equal(running.map((p) => p!.spec.nodeName), names.map((_, i) => (i % 2 ? 'node-b' : 'node-a')));
  const pids = running.map((p) => pidOf(statusOf(p).containerID));
  await Promise.all(names.map((n) => store.delete('Pod', 'default', n)));
  await until(async () => (await Promise.all(names.map((n) => getPod(store, n)))).every((p) => !p), 'all twelve removed', 20_000);
  for (const pid of pids) assert.not.ok(alive(pid), `process ${pid} is gone`);
});

test('a force-deleted pod (gone from the store) is stopped all the same', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  await store.create(nodePod('forced', 'setInterval(() => {}, 1000)'));
  const pod = await podWhere(store, 'forced', (p) => p.status.phase === 'Running', 'running');
  const pid = pidOf(statusOf(pod).containerID);
  await store.delete('Pod', 'default', 'forced', { gracePeriodSeconds: 0 });
  await until(() => !alive(pid), 'the process to be stopped');
});

test.run();
