// /status?summary remembers its counts for the same objects array and store version: a poll after either changes
// counts again, a poll between changes gives the same answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { summarise } from '../../src/api/status-summary.ts';
import type { ObjectSyncState, StatusReport } from '../../src/sync/status.ts';

const entry = (name: string, health: ObjectSyncState['health']): ObjectSyncState =>
  ({ key: `v1/ConfigMap/default/${name}`, kind: 'ConfigMap', namespace: 'default', name, status: 'Synced', mode: 'run', revision: 'abc', health });
const report = (objects: ObjectSyncState[]) => ({ state: 'synced', sync: 'Synced', objects, inventory: objects.map((o) => o.key) }) as unknown as StatusReport;

test('counts follow a new objects array and a changed store; the same inputs give the same counts', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-summary-'));
  const store = await openStore(dir, { flushDelay: 60_000 });
  try {
    const objects = [entry('a', 'Healthy'), entry('b', 'Healthy')];
    const first = await summarise(report(objects), store);
    assert.equal(first.kinds.ConfigMap, { total: 2, sync: { Synced: 2 }, health: { Healthy: 2 } });
    assert.equal([first.objects, first.inventoryCount, first.workloadCounts.deployments], [[], 2, 0]);

    // An entry's health changed: the status has a new objects array.
    const next = [objects[0], entry('b', 'Degraded')];
    const second = await summarise(report(next), store);
    assert.equal(second.kinds.ConfigMap.health, { Healthy: 1, Degraded: 1 });
    assert.equal(second.objects.map((o) => o.name), ['b']);

    // The store changed (a Deployment appeared): the workload counts follow, for the same objects array.
    await store.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
    const third = await summarise(report(next), store);
    assert.is(third.workloadCounts.deployments, 1);
    assert.equal(third.kinds, second.kinds);
    assert.equal((await summarise(report(next), store, 0)).objectsOmitted, 1, 'another limit counts again');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
