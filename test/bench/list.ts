// The read API at 10,000 pods: how long a LIST of all of them takes, and how long the event loop stalls meanwhile
// (the longest wait of /healthz requests sent every few ms alongside); and the same for /status with 10,000
// objects in the sync status. Figures only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer } from '../../src/api/server.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function listBench(pods = 10_000, runs = 5): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-list-'));
  const store = await openStore(dir, { flushDelay: 60_000 });
  try {
    for (let i = 0; i < pods; i++) {
      await store.create({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: `ns-${i % 20}`, labels: { app: `a${i % 50}` } },
        spec: { nodeName: `n${i % 100}`, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1000'], env: [{ name: 'A', value: 'b' }] }] },
      });
      await store.updateStatus('Pod', `ns-${i % 20}`, `p-${i}`, { phase: 'Running', podIP: `10.0.${(i >> 8) & 255}.${i & 255}`, conditions: [{ type: 'Ready', status: 'True' }] });
    }
    await store.setMeta('status', {
      repository: '/r', branch: 'main', path: '.', state: 'idle', stateSince: new Date().toISOString(), sync: 'Synced', message: '', errors: [], warnings: [], timings: {}, conditions: [],
      health: { status: 'Healthy', message: '', reasons: [] }, history: [],
      inventory: Array.from({ length: pods }, (_, i) => `v1/ConfigMap/ns-${i % 20}/cm-${i}`),
      objects: Array.from({ length: pods }, (_, i) => ({ key: `v1/ConfigMap/ns-${i % 20}/cm-${i}`, kind: 'ConfigMap', namespace: `ns-${i % 20}`, name: `cm-${i}`, status: 'Synced', health: { status: 'Healthy', message: 'exists' } })),
    });
    const api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'bench' });
    try {
      for (const [what, p] of [['LIST all pods', '/api/v1/pods'], ['/status', '/status'], ['/status?summary', '/status?summary']] as const) {
        const times: number[] = [], stalls: number[] = [], healthz: number[] = [];
        let bytes = 0;
        for (let r = 0; r < runs; r++) {
          const loop = monitorEventLoopDelay({ resolution: 1 });
          loop.enable();
          let done = false, worst = 0;
          const pinger = (async () => {
            while (!done) {
              const t = performance.now();
              await fetch(`${api.url}/healthz`).then((x) => x.text());
              worst = Math.max(worst, performance.now() - t);
              await new Promise((res) => setTimeout(res, 5));
            }
          })();
          const t0 = performance.now();
          const text = await fetch(api.url + p).then((x) => x.text());
          times.push(performance.now() - t0);
          done = true;
          await pinger;
          loop.disable();
          stalls.push(loop.max / 1e6);
          healthz.push(worst);
          bytes = text.length;
        }
        console.log(`${what} at ${pods} (${bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`}), median of ${runs}: ${median(times).toFixed(0)} ms; `
          + `longest event-loop stall ${median(stalls).toFixed(0)} ms; slowest /healthz alongside ${median(healthz).toFixed(0)} ms`);
      }
    } finally {
      await api.close();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
