import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Expectations } from '../../src/controllers/expectations.ts';
import { replicaSetController } from '../../src/controllers/replicaset.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { contextFor, lagging, replicaSet } from './helpers.ts';

test.after.each(cleanup);

test('unsatisfied until every expected pod is observed; repeats are harmless', () => {
  let t = 0;
  const e = new Expectations(1000, () => t);
  assert.ok(e.satisfied('default/web'), 'nothing recorded');
  e.expectCreations('default/web', ['web-a', 'web-b']);
  assert.not.ok(e.satisfied('default/web'));
  e.creationObserved('default/web', 'web-a');
  e.creationObserved('default/web', 'web-a');
  e.creationObserved('default/other', 'web-b');
  assert.equal(e.pending('default/web'), { creates: 1, deletes: 0 });
  e.creationObserved('default/web', 'web-b');
  assert.ok(e.satisfied('default/web'));

  e.expectDeletions('default/web', ['web-a']);
  assert.not.ok(e.satisfied('default/web'));
  e.deletionObserved('default/web', 'web-a'); // marked
  e.deletionObserved('default/web', 'web-a'); // then removed
  assert.ok(e.satisfied('default/web'));
});

test('expectations that are never met expire after the timeout; delete forgets them', () => {
  let t = 0;
  const e = new Expectations(1000, () => t);
  e.expectCreations('default/web', ['web-a']);
  t = 999;
  assert.not.ok(e.satisfied('default/web'));
  t = 1000;
  assert.ok(e.satisfied('default/web'));
  e.expectDeletions('default/web', ['web-a']);
  e.delete('default/web');
  assert.ok(e.satisfied('default/web'));
});

/** Two syncs in a row against a cache that has not seen the first one's pods yet. */
async function twoQuickSyncs(expectationsTimeoutMs: number) {
  const { store } = await freshStore();
  const slow = lagging(store, 30);
  const ctx = await contextFor(slow, ['ReplicaSet', 'Pod']);
  await store.create(replicaSet('web', 3));
  await until(() => ctx.informer('ReplicaSet').get('default', 'web'), 'the ReplicaSet in the cache', 2000);
  const rs = replicaSetController({ expectationsTimeoutMs });
  rs.watch(ctx, () => {});
  await rs.sync('default/web', ctx);
  await rs.sync('default/web', ctx);
  const afterTwo = (await store.list('Pod')).length;
  await until(() => ctx.informer('Pod').list().length === afterTwo, 'the cache to catch up', 2000);
  await rs.sync('default/web', ctx);
  const afterThree = (await store.list('Pod')).length;
  ctx.stop();
  return { afterTwo, afterThree };
}

test('with expectations, two quick syncs over a lagging cache create exactly spec.replicas pods', async () => {
  assert.equal(await twoQuickSyncs(300_000), { afterTwo: 3, afterThree: 3 });
});

test('control: with expectations expiring at once, the same syncs create pods twice', async () => {
  const { afterTwo } = await twoQuickSyncs(0);
  assert.is(afterTwo, 6, 'the lag is real, so the test above can fail');
});

test.run();
