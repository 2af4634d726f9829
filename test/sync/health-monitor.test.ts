// The health monitor re-assesses the revision when something that health reads changes, and not when a node only
// renews its heartbeat (every 10 s per node: at idle that was a full assessment of the revision each time).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { HealthMonitor, type HealthAssessment } from '../../src/sync/health-monitor.ts';
import { heartbeat, markNodeNotReady, registerNode } from '../../src/node/node-registration.ts';
import { until } from '../support/wait.ts';

test('a heartbeat alone asks for no assessment; a node going NotReady, a new node and a changed object do', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-monitor-'));
  const store = await openStore(dir, { flushDelay: 60_000 });
  const seen: HealthAssessment[] = [];
  const monitor = new HealthMonitor(store, () => ['v1/ConfigMap/default/a'], (h) => seen.push(h), 1);
  try {
    await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' }, data: { v: '1' } });
    await monitor.start();
    await until(() => seen.length === 1, 'the first assessment');
    assert.is(seen[0].objects['v1/ConfigMap/default/a'].status, 'Healthy');

    const t0 = new Date('2026-01-01T00:00:00Z');
    let before = monitor.stats.assessments;
    await registerNode({ store, nodeName: 'n1', hostIP: '127.0.0.1', now: () => t0 });
    const registered = monitor.stats.pokes;
    assert.ok(registered > 1, 'a new node is news'); // created, then its status
    await until(() => monitor.stats.assessments > before, 'the assessment for the new node');

    for (let s = 10; s <= 30; s += 10) await heartbeat(store, 'n1', new Date(t0.getTime() + s * 1000));
    const node = (await store.get('Node', undefined, 'n1'))!;
    assert.is(node.status.conditions.find((c: any) => c.type === 'Ready').lastHeartbeatTime, '2026-01-01T00:00:30Z', 'the heartbeats were written');
    assert.is(monitor.stats.pokes, registered, 'heartbeats alone asked for nothing');

    before = monitor.stats.assessments;
    await markNodeNotReady(store, 'n1', new Date(t0.getTime() + 40_000));
    assert.is(monitor.stats.pokes, registered + 1, 'NotReady is news');
    await until(() => monitor.stats.assessments > before, 'the assessment for NotReady');

    const a = (await store.get('ConfigMap', 'default', 'a'))!;
    await store.recordEvent({ kind: 'ConfigMap', namespace: 'default', name: 'a' }, 'Normal', 'Seen', 'an event');
    assert.is(monitor.stats.pokes, registered + 1, 'an Event is no news');
    before = monitor.stats.assessments;
    await store.update({ ...a, data: { v: '2' } });
    assert.is(monitor.stats.pokes, registered + 2);
    await until(() => monitor.stats.assessments > before, 'the assessment for the changed object');
  } finally {
    await monitor.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
