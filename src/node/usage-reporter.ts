// What a node measures of its containers, as the kubelet's resource metrics do for metrics-server: every
// `resolutionMs` it sums, per container process group (the groups recorded in pids.json), the processes' cpu time
// (/proc/<pid>/stat utime + stime) and resident memory (its rss, /proc/<pid>/status's VmRSS), or asks a runtime that
// has cgroups of its own (podman: Runtime.usage) for their cpu time and working set, turns the cpu time into a rate
// over the window since the last sample, and writes one record per node to the store's meta `usage/<node>`
// (not an object: no watch event, no reconcile; its size is one entry per running container). See docs/engine.md.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { readPidsFile } from './pids-file.ts';
import { ProcPids, readProcStats } from './runtime/proc-pids.ts';
import { TICKS_PER_SECOND } from './runtime/process-group.ts';
import type { Store } from '../store/store.ts';
import { usageKey, type ContainerUsage, type NodeUsage } from '../model/node-usage.ts';
import type { ContainerUsageSample, Runtime } from './runtime/runtime.ts';

interface GroupSample { cpuTicks: number; memoryBytes: number }

/** The kernel's page size, the unit of /proc/<pid>/stat's rss (read once from the first mapping's KernelPageSize). */
let pageBytes: number | undefined;
function pageSize(): number {
  if (pageBytes === undefined) {
    pageBytes = 4096;
    try {
      const fd = openSync('/proc/self/smaps', 'r');
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, null);
      closeSync(fd);
      const kb = /^KernelPageSize:\s+(\d+) kB/m.exec(buf.toString('latin1', 0, n));
      if (kb) pageBytes = Number(kb[1]) * 1024;
    } catch { /* 4 KiB */ }
  }
  return pageBytes;
}

/**
 * The process group of each process looked at (shared by every node of this serve): a process never changes group
 * unless it makes one of its own (setsid, setpgid), and a group asked for has its leader read every time, so a process
 * of another group need not be read again while it lives. Each node sampled every process on the machine every
 * resolution, 10 nodes × thousands of reads; now each reads its own groups' processes and those new since.
 */
const groupOf = new Map<number, number>();
const proc = new ProcPids();

/**
 * cpu ticks and resident bytes summed over each process group asked for. Linux only (/proc); elsewhere empty.
 * Only the processes of its groups, their leaders and those new since are read (groupOf), 32 a turn of the loop (readProcStats): the
 * scan of every process on the machine at once, once per node every resolution, was seconds of serve's loop on a
 * busy machine with 1,000 containers.
 */
export async function sampleGroups(pgids: Set<number>): Promise<Map<number, GroupSample>> {
  const out = new Map<number, GroupSample>();
  const { pids, fresh } = await proc.look();
  if (!pids.length) return out;
  const present = new Set(pids);
  for (const pid of groupOf.keys()) if (!present.has(pid) || fresh(pid)) groupOf.delete(pid);
  // A scan must neither block serve's loop nor take a descriptor per process: readProcStats reads a batch a turn.
  // A leader asked for is always read: one seen between its fork and its setsid was in its parent's group then, and
  // that group kept would hide the container from every sample after (a pod with no metric holds an HPA's scale-down).
  const toRead = pids.filter((pid) => { const g = groupOf.get(pid); return g === undefined || pgids.has(g) || pgids.has(pid); });
  const stats = await readProcStats(toRead);
  toRead.forEach((pid, i) => {
    const f = stats[i]; // state, ppid, pgrp, … utime [11], stime [12], … rss [21]
    if (!f) return; // exited meanwhile
    const pgrp = Number(f[2]);
    groupOf.set(pid, pgrp);
    if (!pgids.has(pgrp) || f[0] === 'Z') return;
    const g = out.get(pgrp) ?? { cpuTicks: 0, memoryBytes: 0 };
    g.cpuTicks += Number(f[11]) + Number(f[12]);
    g.memoryBytes += Number(f[21]) * pageSize(); // rss in pages: what /proc/<pid>/status says as VmRSS
    out.set(pgrp, g);
  });
  return out;
}

export interface UsageReporterOptions {
  store: Store;
  nodeName: string;
  dataDir: string;
  /** Measures containers from their cgroups when it can (Runtime.usage); else their process groups are. */
  runtime?: Runtime;
  /** How often to sample; metrics-server's --metric-resolution, default 15 s. */
  resolutionMs?: number;
  log?: (msg: string) => void;
}

/** Samples at once and every resolutionMs; the first record is written after the second sample (a rate needs two). */
export function startUsageReporter(opts: UsageReporterOptions): { stop(): Promise<void> } {
  const { store, nodeName } = opts;
  const pidsFile = join(opts.dataDir, 'nodes', nodeName, 'pids.json');
  const resolutionMs = opts.resolutionMs ?? 15_000;
  /** `at`: when it was taken (performance.now(): a window never negative, whatever the wall clock does). */
  let last: { at: number; samples: Map<string, ContainerUsageSample> } | undefined;
  let stopped = false;
  let busy = false;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    // A tick right after a slow sample would give a window of a moment (a rate of noise): the next one's spans it.
    if (last && performance.now() - last.at < resolutionMs / 2) return;
    const entries = readPidsFile(pidsFile);
    // Keyed by the instance (its record), so a restarted container's rate is never taken against its predecessor.
    const samples = new Map<string, ContainerUsageSample>();
    const keyOf = (e: (typeof entries)[number]) => `${e.podUID}/${e.container}/${JSON.stringify(e.record)}`;
    if (opts.runtime?.usage) {
      const got = await opts.runtime.usage(entries.map((e) => e.record));
      entries.forEach((e, i) => { if (got[i]) samples.set(keyOf(e), got[i]!); });
    } else {
      // Each recorded process container leads its own process group: the group id is the recorded pid.
      const byGroup = new Map<number, (typeof entries)[number]>();
      for (const e of entries) {
        const pid = (e.record as { pid?: unknown }).pid;
        if (typeof pid === 'number' && pid > 0) byGroup.set(pid, e);
      }
      // No process containers (hollow nodes, an idle node): nothing to look for in /proc, whose scan costs the
      // same however few groups are asked for, once per node.
      if (byGroup.size) for (const [pgid, g] of await sampleGroups(new Set(byGroup.keys()))) {
        samples.set(keyOf(byGroup.get(pgid)!), { cpuSeconds: g.cpuTicks / TICKS_PER_SECOND, memoryBytes: g.memoryBytes });
      }
    }
    // Taken once the figures are in: a slow sample's are as of its end (a runtime's last read, the scan's last batch).
    const at = performance.now(), wall = Date.now();
    const prev = last;
    last = { at, samples };
    if (!prev || stopped) return;
    const seconds = (at - prev.at) / 1000;
    const containers: ContainerUsage[] = [];
    for (const e of entries) {
      const now = samples.get(keyOf(e));
      const before = prev.samples.get(keyOf(e));
      if (!now || !before) continue; // a container is reported from its second sample on
      const cpu = Math.max(0, now.cpuSeconds - before.cpuSeconds) / seconds;
      containers.push({ podUID: e.podUID, container: e.container, cpuNanoCores: Math.round(cpu * 1e9), memoryBytes: now.memoryBytes });
    }
    const usage: NodeUsage = { timestamp: new Date(wall).toISOString().replace(/\.\d+Z$/, 'Z'), windowSeconds: Math.round(seconds * 1000) / 1000, containers };
    await store.setMeta(usageKey(nodeName), usage);
  };
  // One sample at a time, as a ticker drops the ticks it cannot keep up with: a sample that overran the resolution (a
  // slow runtime, a loaded machine) and ended after a later one took its rate against that later one, backwards: a
  // negative window and no cpu at all, which an HPA reads as idle pods and scales down.
  const run = () => {
    if (busy) return;
    busy = true;
    running = tick().catch((e) => opts.log?.(`usage: ${nodeName}: ${(e as Error).message}`)).finally(() => { busy = false; });
  };
  run();
  const timer = setInterval(run, resolutionMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await store.setMeta(usageKey(nodeName), undefined).catch(() => {});
    },
  };
}
