// The hollow pipeline in one process, for profiling it quickly: a store and the engine (controllers, scheduler,
// hollow nodes), Deployments written straight to the store (no git, no sync, no API, no health monitor), so what
// is measured is ReplicaSet → scheduler → bind → node → status and their watchers. Prints CPU per pod, store writes
// per pod by kind (and Event reason), controller syncs per pod, the creation and binding rates; MARK <from µs> <to µs> is the run on the clock
// of `node --cpu-prof` profiles (profile-summary.ts's window). HEAPSAMPLE=1 also prints what allocated most during
// the run (V8's sampling heap profiler, collected objects included: the garbage collector's work); HEAPSAMPLE=survivors
// only what outlived a young-generation collection (what scavenges copy and promote, but for big strings and arrays,
// whose pages are promoted whole). HOLLOW_SERVICES=1
// puts a Service in front of each Deployment; HEAPSNAP=<file> (with node --expose-gc) prints the heap after a full
// collection once every pod runs and writes a heap snapshot there.
//   HOLLOW_NODES=100 HOLLOW_PODS_PER_NODE=30 node --import tsx [--cpu-prof --cpu-prof-dir=DIR] test/bench/hollow-engine.ts
// Not a section of `npm run bench` (the full picture, with serve, is test/bench/hollow.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startEngine } from '../../src/cli/engine.ts';
import { podDefaultsAdmission } from '../../src/manifests/defaults.ts';
import { DEFAULT_TOLERATION_SECONDS, defaultTolerationSecondsAdmission } from '../../src/model/default-tolerations.ts';

const nodes = Number(process.env.HOLLOW_NODES ?? 100), perNode = Number(process.env.HOLLOW_PODS_PER_NODE ?? 30);
const total = nodes * perNode, deployments = Math.max(1, Math.round(total / 300));
const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-hollow-engine-'));
const store = await openStore(dataDir, { admit: [podDefaultsAdmission, defaultTolerationSecondsAdmission(DEFAULT_TOLERATION_SECONDS)] });
await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
const writes = new Map<string, number>();
await store.watch({ shared: true }, (e) => {
  const o = e.object as any;
  const k = `${e.type} ${o.kind}${o.kind === 'Event' ? ` ${o.reason}` : ''}`;
  writes.set(k, (writes.get(k) ?? 0) + 1);
});
const logs: string[] = [];
const t0 = performance.now();
const engine = await startEngine({
  store, dataDir, exportTree: async () => {}, host: '127.0.0.1', nodes, nodeName: 'hollow', capacity: {}, labels: {},
  restartBackoff: { baseMs: 10_000, maxMs: 300_000 }, log: (m) => { if (!m.includes('scheduler: bound')) logs.push(m); }, hollow: { startDelayMs: 0 },
  serviceCIDR: '127.2.0.0/16', clusterCIDR: '127.1.0.0/16', ingressPort: 0, ingressTlsPort: 0,
});
console.log(`engine with ${nodes} nodes up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
writes.clear();
let running = 0;
const seen = new Set<string>(), bound = new Set<string>();
let created = 0, firstCreate = 0, lastCreate = 0, firstBind = 0, lastBind = 0;
await store.watch({ kind: 'Pod', shared: true }, (e) => {
  const uid = e.object.metadata.uid!;
  const now = performance.now();
  if (e.type === 'ADDED') { created++; firstCreate ||= now; lastCreate = now; }
  if (e.object.spec?.nodeName && !bound.has(uid)) { bound.add(uid); firstBind ||= now; lastBind = now; }
  if (e.object.status?.phase === 'Running' && !seen.has(uid)) { seen.add(uid); running++; }
});
/** Pods a second from the first to the last of `n` events. */
const rate = (n: number, from: number, to: number) => (to > from ? ((n - 1) * 1000) / (to - from) : 0).toFixed(0);
const { Session } = await import('node:inspector/promises');
const session = new Session();
if (process.env.HEAPSAMPLE) {
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.HEAPSAMPLE !== 'survivors' } as any);
}
const cpu0 = process.cpuUsage();
const c0 = performance.now();
const mark = Number(process.hrtime.bigint() / 1000n);
for (let i = 0; i < deployments; i++) {
  const replicas = Math.floor(total / deployments) + (i < total % deployments ? 1 : 0);
  await store.create({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `app-${i}`, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: `app-${i}` } }, template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'main', image: 'registry.example/app:1', command: ['app'] }] } } },
  } as any);
  if (process.env.HOLLOW_SERVICES) {
    await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: `app-${i}`, namespace: 'default' }, spec: { selector: { app: `app-${i}` }, ports: [{ port: 80 }] } } as any);
  }
}
while (running < total) {
  await new Promise((r) => setTimeout(r, 100));
  if (performance.now() - c0 > 600_000) throw new Error(`only ${running} running`);
}
const ms = performance.now() - c0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(`MARK ${mark} ${Number(process.hrtime.bigint() / 1000n)}`);
console.log(`${total} pods Running in ${(ms / 1000).toFixed(1)} s; CPU ${(cpuMs / 1000).toFixed(1)} s = ${(cpuMs / total).toFixed(2)} ms a pod; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`created ${rate(created, firstCreate, lastCreate)} pods/s, bound ${rate(bound.size, firstBind, lastBind)} pods/s (first to last)`);
if (process.env.HEAPSNAP) {
  if (!(globalThis as any).gc) console.log('(no --expose-gc: the heap below is before a full collection)');
  (globalThis as any).gc?.();
  console.log(`heap after GC: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
  const { writeHeapSnapshot } = await import('node:v8');
  console.log(`snapshot: ${writeHeapSnapshot(process.env.HEAPSNAP)}`);
}
if (process.env.HEAPSAMPLE) {
  const { profile } = await session.post('HeapProfiler.stopSampling') as any;
  const self = new Map<string, number>();
  // A builtin's allocation (Set, Map, Object.keys…: no url) is charged to the function that called it.
  const walk = (n: any, caller: string) => {
    const k = n.callFrame.url ? `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}:${n.callFrame.columnNumber + 1}` : `${n.callFrame.functionName || '(anon)'} in ${caller}`;
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, n.callFrame.url ? k : caller);
  };
  walk(profile.head, '(root)');
  const tot = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`allocated ${(tot / 2 ** 20).toFixed(0)} MiB = ${(tot / 1024 / total).toFixed(1)} KiB a pod; top self:`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${k}`);
}
const { componentRegistry } = await import('../../src/model/metrics-registry.ts');
const wd = (await componentRegistry.getSingleMetric('workqueue_work_duration_seconds')!.get()).values.filter((v: any) => v.metricName?.endsWith('_count') && v.value > 0);
console.log('syncs: ' + wd.map((v: any) => `${v.labels.name} ${v.value} (${(v.value / total).toFixed(2)} a pod)`).join(', '));
const sum = [...writes.values()].reduce((a, b) => a + b, 0);
console.log(`writes a pod: ${(sum / total).toFixed(2)}`);
for (const [k, v] of [...writes].sort((a, b) => b[1] - a[1])) console.log(`  ${(v / total).toFixed(3)}  ${k}`);
await engine.stop();
await store.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
