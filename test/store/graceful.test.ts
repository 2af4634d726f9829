import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { clock, freshStore, cleanup } from './helpers.ts';

test.after.each(cleanup);

const boundPod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 30, containers: [{ name: 'c', image: 'x' }], ...extra },
});

test('a pod bound to a node is marked for deletion with its grace period, not removed', async () => {
  const c = clock('2024-05-01T10:00:00Z');
  const { store } = await freshStore({ now: c.now });
  await store.create(boundPod('p'));
  const seen: string[] = [];
  await store.watch({ kind: 'Pod' }, (e) => seen.push(e.type));
  const marked = await store.delete('Pod', 'default', 'p');
  assert.is(marked?.metadata.deletionTimestamp, '2024-05-01T10:00:30Z');
  assert.is(marked?.metadata.deletionGracePeriodSeconds, 30);
  assert.ok(await store.get('Pod', 'default', 'p'), 'still there until the node removes it');
  assert.equal(seen, ['MODIFIED']);
  // A second request does not lengthen the grace period; grace 0 removes it.
  c.advance(5000);
  assert.is((await store.delete('Pod', 'default', 'p'))?.metadata.deletionTimestamp, '2024-05-01T10:00:30Z');
  await store.delete('Pod', 'default', 'p', { gracePeriodSeconds: 0 });
  assert.is(await store.get('Pod', 'default', 'p'), undefined);
  assert.equal(seen, ['MODIFIED', 'DELETED']);
});

test('unbound, terminated and other objects are removed at once; an update keeps the mark', async () => {
  const { store } = await freshStore();
  await store.create({ ...boundPod('unbound'), spec: { containers: [{ name: 'c', image: 'x' }] } });
  await store.create(boundPod('done'));
  await store.updateStatus('Pod', 'default', 'done', { phase: 'Succeeded' });
  await store.create(boundPod('marked'));
  assert.is((await store.delete('Pod', 'default', 'unbound'))?.metadata.deletionTimestamp, undefined);
  assert.is(await store.get('Pod', 'default', 'unbound'), undefined);
  await store.delete('Pod', 'default', 'done');
  assert.is(await store.get('Pod', 'default', 'done'), undefined);
  await store.delete('Pod', 'default', 'marked', { gracePeriodSeconds: 2 });
  const cur = (await store.get('Pod', 'default', 'marked'))!;
  const { deletionTimestamp: _d, ...meta } = cur.metadata;
  const updated = await store.update({ ...cur, metadata: { ...meta, labels: { a: 'b' } } });
  assert.ok(updated.metadata.deletionTimestamp, 'the mark cannot be taken back');
  assert.is(updated.metadata.deletionGracePeriodSeconds, 2);
});

test.run();
