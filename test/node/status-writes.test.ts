// How often the node writes a pod's status: a step under way (preparing, launching, stopping for good) is waited
// for, so a pod that starts or stops quickly costs one store write, not one per transition; a step that fails or
// takes long does not hold the status back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { until } from '../support/wait.ts';
import { alive, cleanup, fastNode, nodePod, openTestStore, pidOf, statusOf, tempDir } from './helpers.ts';

test.after.each(cleanup);

/** Every stored version of pod `name`, as `<event> <phase> <first container's state>[ ready][ deleting]`. */
async function versionsOf(store: Awaited<ReturnType<typeof openTestStore>>, name: string) {
  const seen: string[] = [];
  await store.watch({ shared: true }, (e) => {
    const p = e.object as KubeObject;
    if (p.kind !== 'Pod' || p.metadata.name !== name) return;
    const c = p.status?.containerStatuses?.[0];
    seen.push([e.type, p.status?.phase, c ? Object.keys(c.state)[0] : '-', ...(c?.ready ? ['ready'] : []), ...(p.metadata.deletionTimestamp ? ['deleting'] : [])].join(' '));
  });
  return seen;
}

test('a pod that starts and stops at once: one status write to Running and Ready, one to terminated, then removed', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  // A settle longer than any test: the writes below are folded because the steps ended, not because time ran out.
  await fastNode(store, dir, { statusSettleMs: 600_000 });
  const seen = await versionsOf(store, 'quick');
  await store.create(nodePod('quick', 'setInterval(() => {}, 1000)'));
  await until(async () => statusOf(await store.get('Pod', 'default', 'quick'))?.ready, 'quick Ready');
  assert.equal(seen, ['ADDED Pending -', 'MODIFIED Running running ready'], 'no write for "no address yet" nor for ContainerCreating');
  seen.length = 0;
  await store.delete('Pod', 'default', 'quick');
  await until(async () => !(await store.get('Pod', 'default', 'quick')), 'quick removed');
  assert.equal(seen, ['MODIFIED Running running ready deleting', 'MODIFIED Failed terminated deleting', 'DELETED Failed terminated deleting'],
    'the deletion mark, then one write once its container stopped');
});

test('a preparation that fails is written at once however long the settle: Pending, ContainerCreating', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir, { statusSettleMs: 600_000 });
  const pod = nodePod('unmountable', 'setInterval(() => {}, 1000)', { spec: { volumes: [{ name: 'conf', configMap: { name: 'missing' } }] } });
  pod.spec.containers[0].volumeMounts = [{ name: 'conf', mountPath: '/conf' }];
  await store.create(pod);
  const p = await until(async () => {
    const cur = await store.get('Pod', 'default', 'unmountable');
    return cur?.status?.containerStatuses && cur;
  }, 'a status written for the pod that cannot be prepared');
  assert.is(p.status.phase, 'Pending');
  assert.equal(statusOf(p).state, { waiting: { reason: 'ContainerCreating' } });
});

test('a stop that takes its grace period: the pod is written unready while its container still runs', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir); // the default settle (1 s), against a grace period of 60 s (6 s at 100 ms a second)
  const armed = join(dir, 'armed');
  // It says when its SIGTERM handler is in place: a SIGTERM before that would find node's default action.
  const stubborn = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(armed)}, ''); setInterval(() => {}, 1000);`;
  await store.create(nodePod('slow', stubborn, { spec: { terminationGracePeriodSeconds: 60 } }));
  const running = await until(async () => {
    const cur = await store.get('Pod', 'default', 'slow');
    return statusOf(cur)?.ready && cur;
  }, 'slow Ready');
  const pid = pidOf(statusOf(running).containerID);
  await until(() => existsSync(armed), 'its SIGTERM handler in place');
  await store.delete('Pod', 'default', 'slow');
  await until(async () => statusOf(await store.get('Pod', 'default', 'slow'))?.ready === false, 'slow written unready', 5000);
  assert.ok(alive(pid), 'while its process still runs out its grace period');
  assert.ok('running' in statusOf(await store.get('Pod', 'default', 'slow')).state);
  await store.delete('Pod', 'default', 'slow', { gracePeriodSeconds: 0 });
  await until(() => !alive(pid), 'slow stopped');
});

test.run();
