// `npm run bench -- scheduler`: the scheduler alone against a real store, as kube-scheduler's scheduler_perf
// measures it: N Nodes, then N × P pending pods of 100 ReplicaSets created up front, then the scheduler started;
// the figure is pods bound a second from its start to the last binding, and the CPU each binding cost (what the
// shared machine's load barely moves). Asserts nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startScheduler } from '../../src/scheduler/scheduler.ts';
import { node, pod } from '../scheduler/helpers.ts';

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function schedulerThroughput(nodes = Number(process.env.SCHED_NODES ?? 1000), perNode = Number(process.env.SCHED_PODS_PER_NODE ?? 30)) {
  const total = nodes * perNode;
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-sched-'));
  const store = await openStore(dir);
  try {
    for (let i = 0; i < nodes; i++) await store.create(node(`node-${i}`, { cpu: '64', memory: '256Gi', pods: '110' }), { shared: true });
    for (let i = 0; i < total; i++) await store.create(pod(`p-${i}`, { owner: `rs-${i % 100}`, cpu: '10m', memory: '16Mi' }), { shared: true });
    let bound = 0, first = 0, last = 0;
    const stop = await store.watch({ kind: 'Pod', shared: true }, (e) => {
      if (e.type !== 'MODIFIED' || !e.object.spec?.nodeName) return;
      last = performance.now();
      if (!bound++) first = last;
    });
    const cpu0 = process.cpuUsage(), t0 = performance.now(), fromUs = Number(process.hrtime.bigint() / 1000n);
    const scheduler = await startScheduler({ store });
    while (bound < total) await new Promise((r) => setTimeout(r, 20));
    const cpu = process.cpuUsage(cpu0), wall = performance.now() - t0;
    // For profileSummary's window (node --cpu-prof): the scheduler's run, without the set-up.
    if (process.env.SCHED_WINDOW_OUT) writeFileSync(process.env.SCHED_WINDOW_OUT, JSON.stringify({ fromUs, toUs: Number(process.hrtime.bigint() / 1000n) }));
    await scheduler.stop();
    stop();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`scheduler alone, ${nodes} nodes, ${total} pods: ${(total / ((last - first) / 1000)).toFixed(0)} pods/s first bind to last `
      + `(target ≥ 1,000), ${(total / (wall / 1000)).toFixed(0)} pods/s from its start; CPU ${(cpuMs / total * 1000).toFixed(0)} µs a pod `
      + `(${(1e6 / (cpuMs / total * 1000)).toFixed(0)} pods per CPU second); load ${load()}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await schedulerThroughput();
