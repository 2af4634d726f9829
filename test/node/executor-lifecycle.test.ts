// The node executor across its own restarts: a clean stop and resume, and recovery after being killed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../support/wait.ts';
import { alive, cleanup, fastNode, nodePod, openTestStore, pidOf, statusOf, tempDir } from './helpers.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { readPidsFile } from '../../src/node/pids-file.ts';

test.after.each(cleanup);

const podWhere = (store: LowdbStore, name: string, ok: (p: any) => boolean, what: string, ms = 5000) =>
  until(async () => { const p = await store.get('Pod', 'default', name); return p && ok(p) && p; }, what, ms);

/** Live processes whose environment names this pod: at most one per container, or there are duplicates. */
function processesOf(uid: string): number[] {
  const out: number[] = [];
  for (const pid of readFileSyncDir('/proc')) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`CONVERGIT_POD_UID=${uid}`) && alive(Number(pid))) out.push(Number(pid));
    } catch { /* gone */ }
  }
  return out;
}
const commandOf = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim(); } catch { return '(gone)'; } };
const readFileSyncDir = (d: string) => readdirSync(d).filter((n) => /^\d+$/.test(n));

test('stop() leaves no process and the Node NotReady; the next start resumes the pods without duplicates', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  const node = await fastNode(store, dir);
  await store.create(nodePod('keep', "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"));
  await store.create(nodePod('done', 'process.exit(0)', { spec: { restartPolicy: 'Never' } }));
  const before = await podWhere(store, 'keep', (p) => p.status.phase === 'Running', 'running');
  await podWhere(store, 'done', (p) => p.status.phase === 'Succeeded', 'done Succeeded');
  const uid = before.metadata.uid!;
  const pid = pidOf(statusOf(before).containerID);

  await node.stop();
  assert.not.ok(alive(pid), 'the container process is gone');
  assert.equal(processesOf(uid), []);
  const nodeObj = await store.get('Node', undefined, 'node-a');
  assert.equal(nodeObj!.status.conditions.find((c: any) => c.type === 'Ready').reason, 'KubeletNotReady');
  const stopped = await store.get('Pod', 'default', 'keep');
  assert.ok(stopped, 'the pod object is kept');
  assert.is(stopped!.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');

  await fastNode(store, dir);
  const after = await podWhere(store, 'keep', (p) => statusOf(p).state.running && pidOf(statusOf(p).containerID) !== pid, 'resumed');
  assert.is(after.metadata.uid, uid, 'the same pod');
  assert.is(after.status.podIP, before.status.podIP, 'keeps its address');
  assert.is(statusOf(after).restartCount, 1, 'the count carries on');
  assert.is(statusOf(after).lastState.terminated.reason, 'ContainerStatusUnknown');
  assert.equal(processesOf(uid), [pidOf(statusOf(after).containerID)], 'one process, no duplicate');
  const done = await store.get('Pod', 'default', 'done');
  assert.is(done!.status.phase, 'Succeeded', 'a finished pod is not run again');
  const ready = (await store.get('Node', undefined, 'node-a'))!.status.conditions.find((c: any) => c.type === 'Ready');
  assert.is(ready.status, 'True');
});

test('the node heartbeats with its Lease: renewTime moves on, the Node is written only when its status changes or the report period passes', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  let t = Date.parse('2024-05-01T10:00:00Z');
  await fastNode(store, dir, { now: () => new Date((t += 1000)), statusReportMs: 60 * 60_000 });
  const node = (await store.get('Node', undefined, 'node-a'))!;
  const lease = async () => (await store.get('Lease', 'kube-node-lease', 'node-a'))!;
  const first = await lease();
  assert.equal([first.spec.holderIdentity, first.spec.leaseDurationSeconds], ['node-a', 40]);
  assert.match(first.spec.renewTime, /^2024-05-01T10:00:\d\d\.000000Z$/, 'a MicroTime');
  assert.equal(first.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: node.metadata.uid }]);
  const renewed = await until(async () => { const l = await lease(); return l.spec.renewTime > first.spec.renewTime && l; }, 'a renewal');
  await until(async () => (await lease()).spec.renewTime > renewed.spec.renewTime, 'another renewal');
  assert.is((await store.get('Node', undefined, 'node-a'))!.metadata.resourceVersion, node.metadata.resourceVersion, 'the Node was not rewritten');
  // Someone else's view of the node (the lifecycle controller's Unknown) differs from the kubelet's: written back.
  const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
  await store.updateStatus('Node', undefined, 'node-a', { ...node.status, conditions: node.status.conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown' } : c)) });
  const back = await until(async () => { const r = (await store.get('Node', undefined, 'node-a'))!.status.conditions.find((c: any) => c.type === 'Ready'); return r.status === 'True' && r; }, 'Ready again');
  assert.equal([back.reason, back.lastHeartbeatTime > ready.lastHeartbeatTime], ['KubeletReady', true]);
});

test('an unchanged Node status is still written once the report period has passed', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  let t = Date.parse('2024-05-01T10:00:00Z');
  // Each call to now() moves a minute on: the 5-minute report period passes within a few beats.
  await fastNode(store, dir, { now: () => new Date((t += 60_000)) });
  const readyOf = async () => (await store.get('Node', undefined, 'node-a'))!.status.conditions.find((c: any) => c.type === 'Ready');
  const first = await readyOf();
  const later = await until(async () => { const r = await readyOf(); return r.lastHeartbeatTime > first.lastHeartbeatTime && r; }, 'a status report');
  assert.equal([later.status, later.lastTransitionTime], ['True', first.lastTransitionTime]);
});

/** A node run in a child process until its pod runs, then killed with SIGKILL: its container outlives it. */
async function killedNode(dir: string, ...pod: ['listening'] | []): Promise<{ pid: number; uid: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./node-child.ts', import.meta.url)), dir, ...pod], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  let orphan: { pid: number; uid: string };
  try {
    orphan = await until(() => out.includes('\n') && JSON.parse(out), 'the child node to run its pod', 15_000);
  } finally {
    child.kill('SIGKILL');
  }
  await until(() => child.exitCode !== null || child.signalCode !== null, 'the child to die');
  assert.ok(alive(orphan.pid), 'the container outlived its node');
  return orphan;
}

test('after the node process is killed, the next start re-adopts its container: the same process, the same count', async () => {
  const dir = await tempDir();
  const orphan = await killedNode(dir);
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const pod = await podWhere(store, 'orphan', (p) => statusOf(p).state.running && statusOf(p).ready, 'running and ready');
  assert.is(pidOf(statusOf(pod).containerID), orphan.pid, 'the same process');
  assert.is(statusOf(pod).restartCount, 0);
  assert.equal(processesOf(orphan.uid), [orphan.pid], 'exactly one process for the pod');
  // The re-adopted instance is watched: when it dies it is restarted as any container would be.
  process.kill(orphan.pid, 'SIGKILL');
  const again = await podWhere(store, 'orphan', (p) => statusOf(p).state.running && pidOf(statusOf(p).containerID) !== orphan.pid, 'restarted');
  assert.is(statusOf(again).restartCount, 1);
  assert.equal(processesOf(orphan.uid), [pidOf(statusOf(again).containerID)]);
});

test('the status naming a container\'s address lost with the killed node: the re-adopted process keeps its address and gets Ready', async () => {
  const dir = await tempDir();
  const orphan = await killedNode(dir, 'listening');
  const address = readFileSync(`/proc/${orphan.pid}/environ`, 'latin1').split('\0').find((e) => e.startsWith('POD_IP='))!.slice('POD_IP='.length);
  const store = await openTestStore(dir);
  // As when serve is killed between the container's start and the status write: running, but no address nor container
  // status. The pod that had the node's first address is gone: a new address would be that one.
  await store.updateStatus('Pod', 'default', 'orphan', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] });
  await store.delete('Pod', 'default', 'filler', { gracePeriodSeconds: 0 });
  await fastNode(store, dir);
  const pod = await podWhere(store, 'orphan', (p) => statusOf(p)?.ready === true, 'the re-adopted container ready', 10_000);
  assert.is(pidOf(statusOf(pod).containerID), orphan.pid, 'the same process');
  assert.is(pod.status.podIP, address, 'the address its process listens on');
  assert.equal(processesOf(orphan.uid), [orphan.pid]);
});

test('a pod found finished and marked for deletion at the node\'s start (the previous run died before removing it) is removed', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await store.create(nodePod('finished', 'process.exit(0)'));
  await store.delete('Pod', 'default', 'finished', { gracePeriodSeconds: 30 }); // marked while it ran
  // Its container stopped on the SIGTERM and the last status was written; the removal was not.
  const status = { ...(await store.get('Pod', 'default', 'finished'))!.status, phase: 'Succeeded',
    containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'host', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
  await store.updateStatus('Pod', 'default', 'finished', status);
  assert.ok((await store.get('Pod', 'default', 'finished'))?.metadata.deletionTimestamp);
  await fastNode(store, dir);
  await until(async () => !(await store.get('Pod', 'default', 'finished')), 'the finished pod removed');
});

/** A node killed after its pod ran, and the pod found without its binding by the next start (the write lost in the store's batch). */
async function lostBinding(record: 'lost' | 'kept') {
  const dir = await tempDir();
  const orphan = await killedNode(dir);
  if (record === 'lost') rmSync(join(dir, 'nodes', 'node-a', 'pids.json'));
  const store = await openTestStore(dir);
  const pod = (await store.get('Pod', 'default', 'orphan'))!;
  await store.update({ ...pod, spec: { ...pod.spec, nodeName: '' } });
  // The status written after the binding is lost with it.
  await store.updateStatus('Pod', 'default', 'orphan', { phase: 'Pending', conditions: pod.status.conditions.filter((c: any) => c.type === 'PodScheduled') });
  const bindAgain = async () => {
    const unbound = (await store.get('Pod', 'default', 'orphan'))!;
    await store.update({ ...unbound, spec: { ...unbound.spec, nodeName: 'node-a' } });
  };
  return { dir, orphan, store, bindAgain };
}

test('lost binding and container record: the next start kills the orphaned container; bound again, the pod runs once', async () => {
  const { dir, orphan, store, bindAgain } = await lostBinding('lost');
  await fastNode(store, dir);
  await until(() => !alive(orphan.pid), 'the orphaned container to be killed');
  assert.equal(processesOf(orphan.uid), [], 'nothing of the pod runs while it is bound to no node');
  await bindAgain();
  const again = await podWhere(store, 'orphan', (p) => statusOf(p)?.state?.running && pidOf(statusOf(p).containerID) !== orphan.pid, 'running again');
  assert.equal(processesOf(orphan.uid), [pidOf(statusOf(again).containerID)]);
});

test('lost binding, recorded container: bound here again, the container is re-adopted (same process, same count)', async () => {
  const { dir, orphan, store, bindAgain } = await lostBinding('kept');
  await fastNode(store, dir);
  await bindAgain();
  const pod = await podWhere(store, 'orphan', (p) => statusOf(p)?.state?.running, 'running');
  assert.is(pidOf(statusOf(pod).containerID), orphan.pid, 'the same process');
  assert.is(statusOf(pod).restartCount, 0);
  assert.equal(processesOf(orphan.uid), [orphan.pid], 'exactly one process for the pod');
});

test('lost binding, recorded container: not bound again, the housekeeping kills it', async () => {
  const { dir, orphan, store } = await lostBinding('kept');
  await fastNode(store, dir, { housekeepingMs: 50, pendingBindingMs: 0 });
  await until(() => !alive(orphan.pid), 'the orphaned container to be killed');
  assert.equal(processesOf(orphan.uid), []);
  await until(() => !readFileSync(join(dir, 'nodes', 'node-a', 'pids.json'), 'utf8').includes(orphan.uid), 'its record to be removed');
});

test('housekeeping kills an unrecorded container process of this folder whose pod is gone, not one of a pod bound to another node', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir, { housekeepingMs: 50 });
  const elsewhere = await store.create(nodePod('elsewhere', 'setInterval(() => {}, 1000)', { node: 'node-b' }));
  const runtime = new ProcessRuntime();
  // As a pod worker launches a container: its pod's uid and a termination-message path inside the data folder.
  const run = (uid: string) => runtime.start({
    id: `default/${uid}/main`, argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], cwd: dir, logFile: join(dir, 'pods', uid, 'main', '0.log'),
    env: { CONVERGIT_POD_UID: uid, CONVERGIT_TERMINATION_MESSAGE_PATH: join(dir, 'pods', uid, 'main', '0.termination-log') },
  });
  const [gone, other] = [await run('no-such-pod'), await run(elsewhere.metadata.uid!)];
  try {
    await until(() => !alive(gone.pid), 'the orphan to be killed');
    // Found in the same pass as the orphan, and left running.
    assert.ok(alive(other.pid), 'the container of the pod bound to node-b runs on');
  } finally {
    await Promise.all([gone.stop(0), other.stop(0)]);
  }
});

test('detach() leaves the containers running; the next start re-adopts them, restarts those that died meanwhile, stops those whose pod went', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  const first = await fastNode(store, dir);
  const forever = "setInterval(() => {}, 1000)";
  await store.create(nodePod('keep', forever, { container: { readinessProbe: { exec: { command: ['true'] }, periodSeconds: 5, timeoutSeconds: 50 } } }));
  await store.create(nodePod('dies', forever));
  await store.create(nodePod('deleted', forever));
  const running = async (name: string) => podWhere(store, name, (p) => statusOf(p).state.running && statusOf(p).ready, `${name} running and ready`);
  const [keep, dies, deleted] = [await running('keep'), await running('dies'), await running('deleted')];
  const pid = (p: any) => pidOf(statusOf(p).containerID);

  await first.detach();
  for (const p of [keep, dies, deleted]) assert.ok(alive(pid(p)), `${p.metadata.name} runs on`);
  assert.is((await store.get('Pod', 'default', 'keep'))!.status.conditions.find((c: any) => c.type === 'Ready').status, 'True', 'status left as it is');
  process.kill(pid(dies), 'SIGKILL');
  await until(() => !alive(pid(dies)), 'dies to die');
  await store.delete('Pod', 'default', 'deleted', { gracePeriodSeconds: 0 });

  await fastNode(store, dir);
  const diesAgain = await podWhere(store, 'dies', (p) => statusOf(p).state.running && pid(p) !== pid(dies), 'dies restarted');
  assert.is(statusOf(diesAgain).restartCount, 1);
  await until(() => !alive(pid(deleted)), 'the deleted pod\'s container to be stopped');
  assert.equal(processesOf(deleted.metadata.uid!), []);
  const keepAgain = (await store.get('Pod', 'default', 'keep'))!;
  assert.is(pid(keepAgain), pid(keep), 'the same process');
  assert.equal([statusOf(keepAgain).restartCount, statusOf(keepAgain).ready], [0, true]);
  // Failed twice under a full run (the status's pid, and only a newer process of the pod's found): what each is.
  const keepNow = processesOf(keep.metadata.uid!);
  assert.equal(keepNow, [pid(keep)], `found ${keepNow.map((p) => `${p}: ${commandOf(p)}`).join('; ')}; status now ${JSON.stringify(statusOf((await store.get('Pod', 'default', 'keep'))!))}`);
  // Once under a full CI run the restarted process had been replaced by another by now (nothing in the node was
  // found to stop it): the pod's status then says how that instance ended.
  const diesNow = statusOf((await store.get('Pod', 'default', 'dies'))!);
  assert.equal(processesOf(dies.metadata.uid!), [pid(diesAgain)], `restartCount ${diesNow.restartCount}, last state ${JSON.stringify(diesNow.lastState)}`);
});

test('detach() while a container is being started: the start is waited for and recorded, so the next start re-adopts it and `convergit stop` can find it', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  // The real process runtime, its answer held back: the process runs, but the node has not heard its pid yet (a
  // loaded machine stretches that moment; a serve stopping in it left a running container that nothing recorded).
  const runtime = new ProcessRuntime();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let asked!: () => void;
  const starting = new Promise<void>((r) => (asked = r));
  const start = runtime.start.bind(runtime);
  runtime.start = async (launch) => { const h = await start(launch); asked(); await held; return h; };
  const first = await fastNode(store, dir, { runtime });
  await store.create(nodePod('slow', 'setInterval(() => {}, 1000)'));
  await starting;
  const uid = (await store.get('Pod', 'default', 'slow'))!.metadata.uid!;
  const [pid] = await until(() => { const p = processesOf(uid); return p.length === 1 && p; }, 'the container process');
  let detached = false;
  const detaching = first.detach().then(() => (detached = true));
  await new Promise((r) => setTimeout(r, 200)); // the detach, not held back, would be over by now
  const early = detached;
  release();
  await detaching;
  assert.not.ok(early, 'detach() waited for the start under way');
  // What a serve exiting now leaves on disk (its exit writes pids.json as readPidsFile does).
  const records = readPidsFile(join(dir, 'nodes', 'node-a', 'pids.json')).map((e) => (e.record as { pid?: number }).pid);
  assert.equal(records, [pid], 'the container is recorded');
  await fastNode(store, dir);
  await podWhere(store, 'slow', (p) => statusOf(p).state.running && pidOf(statusOf(p).containerID) === pid, 'the same process re-adopted');
  assert.equal(processesOf(uid), [pid], 'no second process');
});

test.run();
