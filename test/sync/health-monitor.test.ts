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
import { assessHealth } from '../../src/health/registry.ts';
import { healthContext } from '../../src/health/types.ts';
import { missing } from '../../src/health/revision.ts';
import { objectKey } from '../../src/model/key.ts';
import type { KubeObject } from '../../src/model/object.ts';

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
    const judged = monitor.stats.judged;
    await store.update({ ...a, data: { v: '2' } });
    assert.is(monitor.stats.pokes, registered + 2);
    await until(() => monitor.stats.assessments > before, 'the assessment for the changed object');
    assert.is(monitor.stats.judged - judged, 1, 'the changed object alone was judged again');
  } finally {
    await monitor.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a pod's change judges again its owners up the chain (its ReplicaSet's Deployment), not every Deployment", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-monitor-'));
  const store = await openStore(dir, { flushDelay: 60_000 });
  const names = ['a', 'b', 'c'];
  const seen: HealthAssessment[] = [];
  const monitor = new HealthMonitor(store, () => names.map((n) => `apps/v1/Deployment/default/${n}`), (h) => seen.push(h), 1);
  const ref = (o: KubeObject) => [{ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid!, controller: true }];
  try {
    for (const n of names) {
      const template = { metadata: { labels: { app: n } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
      const d = await store.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: n, namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: n } }, template } });
      await store.updateStatus('Deployment', 'default', n, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 });
      const rs = await store.create({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `${n}-rs`, namespace: 'default', ownerReferences: ref(d) }, spec: { replicas: 1, selector: { matchLabels: { app: n } }, template } });
      await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${n}-p`, namespace: 'default', labels: { app: n }, ownerReferences: ref(rs) }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Pending' } });
    }
    await monitor.start();
    await until(() => seen.length >= 1, 'the first assessment');
    assert.match(seen[seen.length - 1].verdict!('apps/v1/Deployment/default/b')!.message, /rollout waiting on pod b-p/);
    const before = monitor.stats.assessments, judged = monitor.stats.judged;
    const pod = (await store.get('Pod', 'default', 'b-p'))!;
    await store.updateStatus('Pod', 'default', 'b-p', { ...pod.status, phase: 'Failed' });
    await until(() => monitor.stats.assessments > before, 'the assessment for the pod');
    assert.is(monitor.stats.judged - judged, 1, 'Deployment b alone was judged again');
    assert.not.match(seen[seen.length - 1].verdict!('apps/v1/Deployment/default/b')!.message, /waiting on pod b-p/, 'a pod that failed is no longer waited on');
    assert.match(seen[seen.length - 1].verdict!('apps/v1/Deployment/default/a')!.message, /rollout waiting on pod a-p/);
  } finally {
    await monitor.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('judging again only what changed gives the verdicts of a full assessment, over random changes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-monitor-'));
  const store = await openStore(dir, { flushDelay: 60_000 });
  let seed = 7;
  const next = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  const names = ['a', 'b'];
  const keys = names.flatMap((n) => [`v1/ConfigMap/default/${n}`, `apps/v1/Deployment/default/${n}`, `apps/v1/ReplicaSet/default/${n}-rs`, `v1/Service/default/${n}`]);
  const seen: HealthAssessment[] = [];
  const monitor = new HealthMonitor(store, () => keys, (h) => seen.push(h), 1);
  const full = async () => {
    const objects = (await Promise.all(['ConfigMap', 'Deployment', 'ReplicaSet', 'Pod', 'Service', 'Node'].map((k) => store.list(k, { shared: true })))).flat();
    const byKey = new Map(objects.map((o) => [objectKey(o), o] as const));
    const ctx = healthContext(objects);
    return Object.fromEntries(keys.map((k) => [k, byKey.get(k) ? assessHealth(byKey.get(k)!, ctx) : missing(k)]));
  };
  const write = async (o: KubeObject) => {
    const cur = await store.get(o.kind, 'default', o.metadata.name);
    if (cur) await store.update({ ...o, metadata: { ...o.metadata, uid: cur.metadata.uid } });
    else await store.create(o);
  };
  try {
    await monitor.start();
    await until(() => seen.length >= 1, 'the first assessment');
    for (let step = 0; step < 120; step++) {
      const n = pick(names), v = Math.floor(next() * 3), roll = next();
      const dep = await store.get('Deployment', 'default', n);
      const rs = await store.get('ReplicaSet', 'default', `${n}-rs`);
      if (roll < 0.1) await write({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'default' }, data: { v: String(v) } });
      else if (roll < 0.2) await write({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: n, namespace: 'default', labels: { app: n } }, spec: { replicas: v, selector: { matchLabels: { app: n } }, template: { metadata: { labels: { app: n } }, spec: { containers: [{ name: 'c', image: `i:${v}` }] } } } });
      else if (roll < 0.35 && dep) {
        // the deployment controller's part: a ReplicaSet it owns, then the status it reports
        await write({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `${n}-rs`, namespace: 'default', labels: { app: n }, annotations: { 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: n, uid: dep.metadata.uid!, controller: true }] }, spec: { replicas: dep.spec.replicas, selector: { matchLabels: { app: n } }, template: dep.spec.template } });
      } else if (roll < 0.45 && rs) await store.updateStatus('ReplicaSet', 'default', `${n}-rs`, { replicas: v, readyReplicas: 0, availableReplicas: Math.floor(next() * 2), observedGeneration: rs.metadata.generation });
      else if (roll < 0.55 && dep) await store.updateStatus('Deployment', 'default', n, { observedGeneration: dep.metadata.generation, replicas: v, updatedReplicas: Math.floor(next() * 3), readyReplicas: 0, availableReplicas: Math.floor(next() * 2), conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] });
      else if (roll < 0.6) await write({ apiVersion: 'v1', kind: 'Service', metadata: { name: n, namespace: 'default' }, spec: { selector: { app: n }, ports: [{ port: 80 + v }] } });
      else if (roll < 0.65) await store.delete(pick(['ConfigMap', 'Deployment', 'ReplicaSet', 'Service']), 'default', roll < 0.625 ? n : `${n}-rs`);
      else if (rs) {
        // a pod of the ReplicaSet comes or goes
        const pod = `${n}-rs-p`;
        if (await store.get('Pod', 'default', pod)) await store.delete('Pod', 'default', pod);
        else await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: 'default', labels: { app: n }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${n}-rs`, uid: rs.metadata.uid!, controller: true }] }, spec: { containers: [{ name: 'c', image: 'i' }] } });
      }
      const before = monitor.stats.assessments;
      monitor.poke();
      await until(() => monitor.stats.assessments > before && seen.length >= before + 1, `assessment after step ${step}`);
      await until(async () => JSON.stringify(seen[seen.length - 1].objects) === JSON.stringify(await full()) || undefined, `step ${step}: incremental verdicts equal the full assessment`, 2000)
        .catch(async (e) => { assert.equal(seen[seen.length - 1].objects, await full(), `step ${step}`); throw e; });
    }
    assert.ok(monitor.stats.judged < 120 * keys.length, `only what changed was judged again (${monitor.stats.judged} judgements)`);
  } finally {
    await monitor.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
