// What a container has used, read from its cgroup as the kubelet (cadvisor) reads it: cumulative cpu time and the
// working set (memory in use less inactive file pages, what the kubelet reports and evicts on). The cgroup is found
// once from the container's init process (/proc/<pid>/cgroup), on cgroup v1 (cpuacct, memory) or v2 (one hierarchy);
// its files are then read at each sample, synchronously: kernel files answer at once, and three reads through the
// thread pool (open, stat, read, close each) cost serve more than the reads themselves, every pod at every sample.
import { readFileSync } from 'node:fs';
import type { ContainerUsageSample } from '../runtime.ts';

const ROOT = '/sys/fs/cgroup';

/** The files a container's usage is read from: its cgroup's, which name the container (a reused pid cannot mislead). */
export type CgroupFiles = { version: 1; cpu: string; memory: string; stat: string } | { version: 2; cpu: string; memory: string; stat: string };

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const stat = (text: string | undefined, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '')?.[1] ?? 0);

/** The cgroup files of process `pid`, if its cgroup is `containerId`'s. */
export function cgroupFiles(pid: number, containerId: string): CgroupFiles | undefined {
  const lines = read(`/proc/${pid}/cgroup`);
  if (!lines?.includes(containerId)) return undefined;
  const paths = new Map<string, string>();
  for (const l of lines.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(l);
    if (m) for (const c of m[1].split(',')) paths.set(c, m[2]);
  }
  const cpuacct = paths.get('cpuacct');
  const memory = paths.get('memory');
  if (cpuacct !== undefined && memory !== undefined) {
    const dir = `${ROOT}/memory${memory}`;
    return { version: 1, cpu: `${ROOT}/cpuacct${cpuacct}/cpuacct.usage`, memory: `${dir}/memory.usage_in_bytes`, stat: `${dir}/memory.stat` };
  }
  const unified = paths.get('');
  if (unified === undefined) return undefined;
  return { version: 2, cpu: `${ROOT}${unified}/cpu.stat`, memory: `${ROOT}${unified}/memory.current`, stat: `${ROOT}${unified}/memory.stat` };
}

/** The container's usage now; undefined once its cgroup is gone. */
export function cgroupUsage(files: CgroupFiles): ContainerUsageSample | undefined {
  const cpu = read(files.cpu);
  const used = read(files.memory);
  if (cpu === undefined || used === undefined) return undefined;
  const memoryStat = read(files.stat);
  return files.version === 1
    ? { cpuSeconds: Number(cpu) / 1e9, memoryBytes: Math.max(0, Number(used) - stat(memoryStat, 'total_inactive_file')) }
    : { cpuSeconds: stat(cpu, 'usage_usec') / 1e6, memoryBytes: Math.max(0, Number(used) - stat(memoryStat, 'inactive_file')) };
}
