// Persistence cost of one change in a big store: bytes written and time per single-object change (update + flush)
// at 10,000 objects. Bytes are read from the data folder (a replaced state.json counts whole; a journal counts
// what it grew by), so the figure does not depend on what the store says of itself.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { HealthMonitor } from '../../src/sync/health-monitor.ts';
import { heartbeat, registerNode } from '../../src/node/node-registration.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fileInfo = (f: string) => {
  try {
    const s = statSync(f);
    return { ino: s.ino, size: s.size };
  } catch {
    return { ino: 0, size: 0 };
  }
};

export async function persistBench(objects = 10_000, changes = 50): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-persist-'));
  const state = path.join(dir, 'state.json');
  const journal = path.join(dir, 'state.journal');
  try {
    const store = await openStore(dir, { flushDelay: 60_000 });
    const data = Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`key-${j}`, `value ${j} `.repeat(10)]));
    for (let i = 0; i < objects; i++) {
      await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: `ns-${i % 100}`, labels: { app: `a${i % 50}` } }, data });
    }
    await store.flush();
    const times: number[] = [], bytes: number[] = [];
    for (let c = 0; c < changes; c++) {
      const i = (c * 7919) % objects;
      const cur = (await store.get('ConfigMap', `ns-${i % 100}`, `cm-${i}`))!;
      const s0 = fileInfo(state), j0 = fileInfo(journal);
      const t0 = performance.now();
      await store.update({ ...cur, data: { ...(cur.data as object), changed: String(c) } });
      await store.flush();
      times.push(performance.now() - t0);
      const s1 = fileInfo(state), j1 = fileInfo(journal);
      bytes.push((s1.ino !== s0.ino ? s1.size : 0) + Math.max(0, j1.size - (j1.ino === j0.ino ? j0.size : 0)));
    }
    // Idle: a node's heartbeat. It used to rewrite the whole file and cost a full health assessment of the revision.
    const t0 = new Date();
    await registerNode({ store, nodeName: 'n1', hostIP: '127.0.0.1', now: () => t0 });
    await store.flush();
    let assessed = 0, assessMs = 0;
    const keys = Array.from({ length: objects }, (_, i) => `v1/ConfigMap/ns-${i % 100}/cm-${i}`);
    const monitor = new HealthMonitor(store, () => keys, () => { assessed++; }, 1);
    const a0 = performance.now();
    await monitor.start();
    while (!assessed) await new Promise((r) => setTimeout(r, 1));
    assessMs = performance.now() - a0;
    const beats: number[] = [];
    const before = monitor.stats.assessments;
    for (let b = 1; b <= 5; b++) {
      const j0 = fileInfo(journal), s0 = fileInfo(state);
      await heartbeat(store, 'n1', new Date(t0.getTime() + b * 10_000));
      await store.flush();
      const j1 = fileInfo(journal), s1 = fileInfo(state);
      beats.push((s1.ino !== s0.ino ? s1.size : 0) + Math.max(0, j1.size - (j1.ino === j0.ino ? j0.size : 0)));
    }
    await new Promise((r) => setTimeout(r, 50)); // an assessment a heartbeat had asked for would have run by now
    const heartbeatAssessments = monitor.stats.assessments - before;
    await monitor.stop();
    await store.close();
    const snapshot = fileInfo(state).size;
    console.log(`persist one changed object at ${objects} objects (state.json ${(snapshot / 1e6).toFixed(1)} MB), median of ${changes}: `
      + `${median(bytes)} bytes written, ${median(times).toFixed(2)} ms (update + durable flush); max ${Math.max(...bytes)} bytes, ${Math.max(...times).toFixed(1)} ms`);
    console.log(`  idle, one node heartbeat: ${median(beats)} bytes written, ${heartbeatAssessments} health assessments in 5 heartbeats `
      + `(one assessment of ${objects} objects takes ${assessMs.toFixed(0)} ms; before: the whole state.json and one assessment per heartbeat)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


