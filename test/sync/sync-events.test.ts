// The Events a sync records: one per changed object for a small sync (what `kubectl describe` of that object shows),
// one summary per namespace for a big one (a first sync of thousands of objects), so `kubectl get events` stays useful.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { applyPlan, PER_OBJECT_EVENTS } from '../../src/sync/apply.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { keyOf } from '../../src/plan/pair.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';

let dir: string, store: Store;
test.before.each(async () => { dir = mkdtempSync(path.join(tmpdir(), 'convergit-sync-events-')); store = await openStore(dir); });
test.after.each(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });

const cm = (name: string, namespace: string, v = '1'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { v } });
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

async function sync(desired: KubeObject[], sha: string) {
  const live = [...await store.list('ConfigMap'), ...await store.list('Namespace')];
  const plan = makePlan({ desired, live, inventory: live.map(keyOf) });
  await applyPlan(store, plan, sha);
  return plan;
}
const events = async () => (await store.list('Event')).map((e: any) => ({ ns: e.metadata.namespace, kind: e.involvedObject.kind, name: e.involvedObject.name, reason: e.reason, message: e.message }));

test('a small sync records an Event per object changed, with the revision', async () => {
  await sync([cm('a', 'default'), cm('b', 'default')], 'a'.repeat(40));
  await sync([cm('a', 'default', '2')], 'b'.repeat(40));
  const got = (await events()).map((e) => `${e.reason} ${e.kind}/${e.name}: ${e.message}`).sort();
  assert.equal(got, [
    'Created ConfigMap/a: created from git revision aaaaaaa',
    'Created ConfigMap/b: created from git revision aaaaaaa',
    'Pruned ConfigMap/b: pruned from git revision bbbbbbb',
    'Updated ConfigMap/a: updated from git revision bbbbbbb',
  ]);
});

test('a big sync records one summary per namespace it changed, in that namespace; cluster-scoped objects count in default', async () => {
  const many = (namespace: string, n: number, v = '1') => Array.from({ length: n }, (_, i) => cm(`cm-${i}`, namespace, v));
  const first = [ns('team-a'), ...many('team-a', PER_OBJECT_EVENTS), ...many('default', 3)];
  await sync(first, 'c'.repeat(40));
  assert.equal(await events(), [
    { ns: 'default', kind: 'Namespace', name: 'default', reason: 'Synced', message: `git revision ccccccc: 4 created, 0 updated, 0 pruned (Namespace/team-a, ConfigMap/cm-0, ConfigMap/cm-1, ConfigMap/cm-2); a sync of more than ${PER_OBJECT_EVENTS} changes records this summary instead of an Event per object` },
    { ns: 'team-a', kind: 'Namespace', name: 'team-a', reason: 'Synced', message: `git revision ccccccc: ${PER_OBJECT_EVENTS} created, 0 updated, 0 pruned (ConfigMap/cm-0, ConfigMap/cm-1, ConfigMap/cm-10, ConfigMap/cm-11, ConfigMap/cm-12 and ${PER_OBJECT_EVENTS - 5} more); a sync of more than ${PER_OBJECT_EVENTS} changes records this summary instead of an Event per object` },
  ]);
  assert.is((await store.list('ConfigMap')).length, PER_OBJECT_EVENTS + 3, 'every object applied');
  // The next, small, sync is back to an Event per object.
  await sync([ns('team-a'), ...many('team-a', PER_OBJECT_EVENTS), cm('cm-0', 'default', '2'), cm('cm-1', 'default'), cm('cm-2', 'default')], 'd'.repeat(40));
  const last = (await events()).filter((e) => String(e.message).includes('ddddddd'));
  assert.equal(last.map((e) => `${e.reason} ${e.kind}/${e.ns}/${e.name}`), ['Updated ConfigMap/default/cm-0']);
});

test.run();
