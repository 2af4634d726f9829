// What a container has used, read from its cgroup as the kubelet (cadvisor) reads it: cumulative cpu time and the
// working set (memory in use less inactive file pages, what the kubelet reports and evicts on). The cgroup is found
// from the container's init process (/proc/<pid>/cgroup), on cgroup v1 (cpuacct, memory) or v2 (one hierarchy).
import { readFile } from 'node:fs/promises';
import type { ContainerUsageSample } from '../runtime.ts';

const ROOT = '/sys/fs/cgroup';

const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);
const stat = (text: string | undefined, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '')?.[1] ?? 0);

/** The usage of the cgroup process `pid` is in, if it is `containerId`'s (a reused pid is someone else's). */
export async function cgroupUsage(pid: number, containerId: string): Promise<ContainerUsageSample | undefined> {
  const lines = await read(`/proc/${pid}/cgroup`);
  if (!lines?.includes(containerId)) return undefined;
  const paths = new Map<string, string>();
  for (const l of lines.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(l);
    if (m) for (const c of m[1].split(',')) paths.set(c, m[2]);
  }
  const cpuacct = paths.get('cpuacct');
  const memory = paths.get('memory');
  if (cpuacct !== undefined && memory !== undefined) {
    const ns = await read(`${ROOT}/cpuacct${cpuacct}/cpuacct.usage`);
    const used = await read(`${ROOT}/memory${memory}/memory.usage_in_bytes`);
    if (ns === undefined || used === undefined) return undefined;
    const inactive = stat(await read(`${ROOT}/memory${memory}/memory.stat`), 'total_inactive_file');
    return { cpuSeconds: Number(ns) / 1e9, memoryBytes: Math.max(0, Number(used) - inactive) };
  }
  const unified = paths.get('');
  if (unified === undefined) return undefined;
  const cpu = await read(`${ROOT}${unified}/cpu.stat`);
  const current = await read(`${ROOT}${unified}/memory.current`);
  if (cpu === undefined || current === undefined) return undefined;
  const inactive = stat(await read(`${ROOT}${unified}/memory.stat`), 'inactive_file');
  return { cpuSeconds: stat(cpu, 'usage_usec') / 1e6, memoryBytes: Math.max(0, Number(current) - inactive) };
}
