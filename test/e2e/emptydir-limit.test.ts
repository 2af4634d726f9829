// End to end on the process runtime: the node's eviction manager measures size-limited emptyDir volumes and evicts
// the pod that writes past its limit (killed at once, Failed, reason Evicted, an event), leaving a pod under its limit,
// also while the pod is still starting (its init container the writer).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';
import { alive, cleanup, fastNode, nodePod, openTestStore, pidOf, tempDir } from '../node/helpers.ts';
import { until } from '../support/wait.ts';

let store: LowdbStore, mnt: string;

test.before(async () => {
  const dataDir = await tempDir();
  mnt = await tempDir(); // an existing host folder as the mount point (made in each pod's own mount namespace)
  store = await openTestStore(dataDir);
  await fastNode(store, dataDir, { evictionMonitoringMs: 100 });
});

test.after(() => cleanup());

/** Writes `kib` KiB into its emptyDir (limit 1Mi) and sleeps; `deaf`: to SIGTERM (deaf before it writes, or a loaded
 * machine can evict it between the write and the handler: exit 143), with 600 s grace (a minute at this node's speed),
 * so only a kill without grace ends it quickly. */
const writer = (name: string, kib: number, deaf = false): KubeObject => nodePod(name,
  `${deaf ? "process.on('SIGTERM', () => {});" : ''} require('fs').writeFileSync('${mnt}/blob', Buffer.alloc(${kib} * 1024, 1)); setInterval(() => {}, 1000);`,
  { spec: { terminationGracePeriodSeconds: deaf ? 600 : 1, volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }] }, container: { volumeMounts: [{ name: 'scratch', mountPath: mnt }] } });

const get = (name: string) => store.get('Pod', 'default', name);

test('a pod past its emptyDir sizeLimit is evicted at once; one under it runs on', async () => {
  await store.create(writer('small', 100));
  await until(async () => (await get('small'))?.status?.containerStatuses?.[0]?.state?.running && true, 'small running');
  await store.create(writer('big', 2048, true));
  const running = await until(async () => (await get('big'))?.status?.containerStatuses?.[0]?.state?.running && (await get('big')), 'big running');
  const pid = pidOf(running!.status.containerStatuses[0].containerID);

  const evicted = await until(async () => { const p = await get('big'); return p?.status?.phase === 'Failed' && p; }, 'big evicted');
  assert.is(evicted.status.reason, 'Evicted');
  assert.is(evicted.status.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  assert.is(evicted.metadata.deletionTimestamp, undefined, 'the pod object stays');
  assert.ok(evicted.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'False' && c.reason === 'PodCompleted'));
  // grace 0: SIGKILL at once, not SIGTERM and its grace period
  await until(() => !alive(pid), 'big\'s process gone');
  const terminated = await until(async () => (await get('big'))?.status?.containerStatuses?.[0]?.state?.terminated, 'big\'s container terminated');
  assert.is(terminated.exitCode, 137);
  const events = (await store.list('Event', { namespace: 'default' })).filter((e: any) => e.involvedObject?.name === 'big' && e.reason === 'Evicted');
  assert.equal(events.map((e: any) => [e.type, e.message]), [['Warning', evicted.status.message]]);

  const small = await get('small');
  assert.is(small?.status?.phase, 'Running', 'under its limit, measured in the same passes');
  assert.is(small?.status?.reason, undefined);
});

test('a pod whose init container writes past the limit is evicted while it starts: the init container killed, no app container', async () => {
  const init = writer('init-writer', 2048, true).spec.containers[0];
  const pod = nodePod('starting', 'setInterval(() => {}, 1000);', { spec: {
    terminationGracePeriodSeconds: 600, volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }],
    initContainers: [{ ...init, name: 'fill' }],
  } });
  await store.create(pod);
  const starting = await until(async () => { const p = await get('starting'); return p?.status?.initContainerStatuses?.[0]?.state?.running && p; }, 'the init container running');
  const pid = pidOf(starting.status.initContainerStatuses[0].containerID);
  const evicted = await until(async () => { const p = await get('starting'); return p?.status?.phase === 'Failed' && p; }, 'evicted while starting');
  assert.is(evicted.status.reason, 'Evicted');
  assert.is(evicted.status.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  await until(() => !alive(pid), 'the init container\'s process gone (grace 0, not its 600 s)');
  const done = await until(async () => (await get('starting'))?.status?.initContainerStatuses?.[0]?.state?.terminated, 'the init container terminated');
  assert.is(done.exitCode, 137);
  const app = (await get('starting'))!.status.containerStatuses?.[0];
  assert.not.ok(app?.state?.running || app?.state?.terminated, `the app container never started: ${JSON.stringify(app)}`);
});

test.run();
