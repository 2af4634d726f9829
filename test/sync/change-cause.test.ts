// The sync marks each Deployment it rolls out with the commit that caused it (kubernetes.io/change-cause, which the
// Deployment controller copies to the ReplicaSet and `kubectl rollout history` shows); later updates keep it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { applyPlan, CHANGE_CAUSE } from '../../src/sync/apply.ts';
import { makePlan } from '../../src/plan/plan.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';

let dir: string, store: Store;
test.before.each(async () => { dir = mkdtempSync(path.join(tmpdir(), 'convergit-cause-')); store = await openStore(dir); });
test.after.each(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });

const deploy = (image: string, replicas = 1, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } } },
});

async function sync(desired: KubeObject, sha: string, message: string) {
  const live = await store.list('Deployment');
  const plan = makePlan({ desired: [desired], live, inventory: live.map(() => 'apps/v1/Deployment/default/web') });
  await applyPlan(store, plan, sha, message);
  return plan;
}
const cause = async () => (await store.get('Deployment', 'default', 'web'))!.metadata.annotations?.[CHANGE_CAUSE];

test('set on create and on a template change, kept on other changes, never a plan difference', async () => {
  await sync(deploy('v1'), 'a'.repeat(40), 'first deploy\n\nbody');
  assert.is(await cause(), 'aaaaaaa first deploy');
  await sync(deploy('v1', 3), 'b'.repeat(40), 'scale up');
  assert.is(await cause(), 'aaaaaaa first deploy', 'replicas are not a new revision');
  await sync(deploy('v2', 3), 'c'.repeat(40), 'web v2');
  assert.is(await cause(), 'ccccccc web v2');
  const again = await sync(deploy('v2', 3), 'd'.repeat(40), 'unrelated');
  assert.is(again.update, 0, 'the change-cause is not a difference from git');
});

test('a change-cause committed in git wins', async () => {
  await sync(deploy('v1', 1, { [CHANGE_CAUSE]: 'by hand' }), 'a'.repeat(40), 'first');
  assert.is(await cause(), 'by hand');
  await sync(deploy('v2', 1, { [CHANGE_CAUSE]: 'new image' }), 'b'.repeat(40), 'second');
  assert.is(await cause(), 'new image');
});

test.run();
